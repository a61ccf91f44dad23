/**
 * SQLite store (better-sqlite3, WAL). Writes go through the group committer; reads run at once.
 * Durability: an admission's promise resolves after its COMMIT; with `synchronous=FULL` that COMMIT fsynced
 * the WAL, with `NORMAL` the data is in the OS (survives a process crash, not a power loss).
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { AccountRecord, ConnRef, DeniedKey, Kind, PlanRecord, SessionEvent, SessionEventType, SessionRecord, Status } from '../core/types.js';
import { GroupCommitter } from './group-commit.js';
import { MIGRATIONS } from './migrations.js';
import type { AdmitOp, AdmitResult, LiveSessionRow, Page, SessionFilter, Store } from './store.js';

interface SessionRow {
  id: string; key: string; kind: string; status: string; reason: string | null; stream: string; account: string | null;
  plan: string | null; device: string | null; role: string | null; ip: string; protocol: string; server: string;
  client_id: string | null; user_agent: string | null; token: string | null; auth_method: string | null; counted: number;
  started_at: number; ended_at: number | null; last_seen: number; expires_at: number | null; bytes_in: number; bytes_out: number;
}

const COLS = 'id, key, kind, status, reason, stream, account, plan, device, role, ip, protocol, server, client_id, user_agent, token, auth_method, counted, started_at, ended_at, last_seen, expires_at, bytes_in, bytes_out';

function fromRow(r: SessionRow): SessionRecord {
  return {
    id: r.id, key: r.key, kind: r.kind as Kind, status: r.status as Status, reason: r.reason, stream: r.stream, account: r.account,
    plan: r.plan, device: r.device, role: r.role, ip: r.ip, protocol: r.protocol, server: r.server, clientId: r.client_id,
    userAgent: r.user_agent, token: r.token, authMethod: r.auth_method, counted: r.counted === 1, startedAt: r.started_at,
    endedAt: r.ended_at, lastSeen: r.last_seen, expiresAt: r.expires_at, bytesIn: r.bytes_in, bytesOut: r.bytes_out,
  };
}

function toParams(s: SessionRecord): unknown[] {
  return [s.id, s.key, s.kind, s.status, s.reason, s.stream, s.account, s.plan, s.device, s.role, s.ip, s.protocol, s.server,
    s.clientId, s.userAgent, s.token, s.authMethod, s.counted ? 1 : 0, s.startedAt, s.endedAt, s.lastSeen, s.expiresAt, s.bytesIn, s.bytesOut];
}

/** The event payload never carries the token. */
export function eventData(s: SessionRecord): string {
  return JSON.stringify({ ...s, token: undefined });
}

export interface SqliteOptions {
  path: string;
  synchronous: 'full' | 'normal';
}

export class SqliteStore implements Store {
  private db!: Db;
  private gc!: GroupCommitter;
  private st!: ReturnType<SqliteStore['prepare']>;

  constructor(private readonly opts: SqliteOptions) {}

  async init(): Promise<void> {
    if (this.opts.path !== ':memory:') mkdirSync(dirname(this.opts.path), { recursive: true });
    this.db = new Database(this.opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.st = this.prepare();
    this.gc = new GroupCommitter(this.db);
  }

  /** Schema version now in the file. */
  version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  get commitStats(): { batches: number; ops: number } {
    return { batches: this.gc.batches, ops: this.gc.ops };
  }

  private migrate(): void {
    const v = this.version();
    if (v > MIGRATIONS.length) throw new Error(`database schema version ${v} is newer than this Usher (${MIGRATIONS.length})`);
    for (let i = v; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  private prepare() {
    const d = this.db;
    return {
      liveByKey: d.prepare(`SELECT ${COLS} FROM sessions WHERE key = ? AND status = 'active' LIMIT 1`) as Statement<[string], SessionRow>,
      insert: d.prepare(`INSERT INTO sessions (${COLS}) VALUES (${COLS.split(',').map(() => '?').join(',')})`),
      countAccount: d.prepare(`SELECT count(*) AS n FROM sessions WHERE account = ? AND status = 'active' AND counted = 1`).pluck() as Statement<[string], number>,
      oldestAccount: d.prepare(`SELECT ${COLS} FROM sessions WHERE account = ? AND status = 'active' AND counted = 1 ORDER BY started_at, rowid LIMIT ?`) as Statement<[string, number], SessionRow>,
      countViewers: d.prepare(`SELECT count(*) AS n FROM sessions WHERE stream = ? AND status = 'active' AND kind = 'viewer'`).pluck() as Statement<[string], number>,
      viewers: d.prepare(`SELECT ${COLS} FROM sessions WHERE stream = ? AND status = 'active' AND kind = 'viewer' ORDER BY started_at LIMIT 100`) as Statement<[string], SessionRow>,
      touchSeen: d.prepare(`UPDATE sessions SET last_seen = ? WHERE id = ? AND status IN ('active', 'killing') AND last_seen < ?`),
      joinSeen: d.prepare(`UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ?`),
      setStatus: d.prepare(`UPDATE sessions SET status = ?, reason = ?, ended_at = ? WHERE id = ? AND status IN ('active', 'killing')`),
      get: d.prepare(`SELECT ${COLS} FROM sessions WHERE id = ?`) as Statement<[string], SessionRow>,
      live: d.prepare(`SELECT ${COLS} FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid`) as Statement<[], SessionRow>,
      liveConns: d.prepare(`SELECT c.server, c.client_id, c.session_id, c.protocol FROM conns c`) as Statement<[], { server: string; client_id: string; session_id: string; protocol: string }>,
      addBytes: d.prepare(`UPDATE sessions SET bytes_in = bytes_in + ?, bytes_out = bytes_out + ? WHERE id = ?`),
      attach: d.prepare(`INSERT INTO conns (server, client_id, session_id, protocol) VALUES (?, ?, ?, ?) ON CONFLICT (server, client_id) DO UPDATE SET session_id = excluded.session_id, protocol = excluded.protocol`),
      detach: d.prepare(`DELETE FROM conns WHERE server = ? AND client_id = ?`),
      detachSession: d.prepare(`DELETE FROM conns WHERE session_id = ?`),
      event: d.prepare(`INSERT INTO events (type, at, session_id, data) VALUES (?, ?, ?, ?)`),
      events: d.prepare(`SELECT seq, type, at, data FROM events WHERE seq > ? ORDER BY seq LIMIT ?`) as Statement<[number, number], { seq: number; type: string; at: number; data: string }>,
      prune: d.prepare(`DELETE FROM sessions WHERE status IN ('ended', 'killed', 'denied') AND coalesce(ended_at, started_at) < ?`),
      pruneEvents: d.prepare(`DELETE FROM events WHERE at < ?`),
      getAccount: d.prepare(`SELECT * FROM accounts WHERE id = ?`) as Statement<[string], AccountRow>,
      putAccount: d.prepare(`INSERT INTO accounts (id, plan, max_sessions, disabled, updated_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (id) DO UPDATE SET plan = excluded.plan, max_sessions = excluded.max_sessions, disabled = excluded.disabled, updated_at = excluded.updated_at`),
      listAccounts: d.prepare(`SELECT * FROM accounts ORDER BY id`) as Statement<[], AccountRow>,
      getPlan: d.prepare(`SELECT * FROM plans WHERE name = ?`) as Statement<[string], PlanRow>,
      putPlan: d.prepare(`INSERT INTO plans (name, max_sessions, on_limit, exempt_streams, exempt_protocols, max_duration_seconds) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET max_sessions = excluded.max_sessions, on_limit = excluded.on_limit, exempt_streams = excluded.exempt_streams,
        exempt_protocols = excluded.exempt_protocols, max_duration_seconds = excluded.max_duration_seconds`),
      listPlans: d.prepare(`SELECT * FROM plans ORDER BY name`) as Statement<[], PlanRow>,
      putDenied: d.prepare(`INSERT INTO denied (key, code, reason, stream, ip, until) VALUES (?, ?, ?, ?, ?, ?)
        ON CONFLICT (key) DO UPDATE SET code = excluded.code, reason = excluded.reason, until = excluded.until`),
      listDenied: d.prepare(`SELECT * FROM denied WHERE until > ? ORDER BY until`) as Statement<[number], DeniedKey>,
      clearDenied: d.prepare(`DELETE FROM denied WHERE key = ?`),
      clearAllDenied: d.prepare(`DELETE FROM denied`),
      pruneDenied: d.prepare(`DELETE FROM denied WHERE until <= ?`),
    };
  }

  async close(): Promise<void> {
    this.gc?.flush();
    this.db?.close();
  }

  admit(op: AdmitOp): Promise<AdmitResult> {
    return this.gc.enqueue(() => this.admitNow(op));
  }

  /** Runs inside the batch transaction: join, or check limits and insert — atomically. */
  private admitNow(op: AdmitOp): AdmitResult {
    const s = op.session;
    const st = this.st;
    const existing = st.liveByKey.get(s.key);
    if (existing) {
      st.joinSeen.run(s.startedAt, existing.id);
      if (op.conn) st.attach.run(op.conn.server, op.conn.clientId, existing.id, op.conn.protocol);
      return { outcome: 'joined', session: fromRow(existing) };
    }
    const { limits } = op;
    if (limits.streamMaxViewers > 0 && s.kind === 'viewer' && st.countViewers.get(s.stream)! >= limits.streamMaxViewers) {
      return { outcome: 'limit', scope: 'stream', active: st.viewers.all(s.stream).map(fromRow) };
    }
    const replaced: SessionRecord[] = [];
    if (s.counted && limits.account !== null && limits.maxSessions > 0) {
      const n = st.countAccount.get(limits.account)!;
      if (n >= limits.maxSessions) {
        const excess = n - limits.maxSessions + 1;
        if (limits.onLimit === 'deny') return { outcome: 'limit', scope: 'account', active: st.oldestAccount.all(limits.account, 1000).map(fromRow) };
        for (const row of st.oldestAccount.all(limits.account, excess)) {
          st.setStatus.run('killing', 'replaced', null, row.id);
          replaced.push({ ...fromRow(row), status: 'killing', reason: 'replaced' });
        }
      }
    }
    st.insert.run(...toParams(s));
    if (op.conn) st.attach.run(op.conn.server, op.conn.clientId, s.id, op.conn.protocol);
    st.event.run('session.started', s.startedAt, s.id, eventData(s));
    return { outcome: 'admitted', session: { ...s }, replaced };
  }

  recordDenied(session: SessionRecord): Promise<void> {
    return this.gc.enqueue(() => {
      this.st.insert.run(...toParams(session));
      this.st.event.run('session.denied', session.startedAt, session.id, eventData(session));
    });
  }

  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): Promise<SessionRecord | undefined> {
    return this.gc.enqueue(() => {
      const row = this.st.get.get(id);
      if (!row || (row.status !== 'active' && row.status !== 'killing')) return undefined;
      if (status === 'killing' && row.status === 'killing') return fromRow(row);
      const endedAt = status === 'killing' ? null : at;
      this.st.setStatus.run(status, reason, endedAt, id);
      const rec: SessionRecord = { ...fromRow(row), status, reason, endedAt };
      if (status !== 'killing') {
        this.st.detachSession.run(id);
        this.st.event.run(status === 'ended' ? 'session.ended' : 'session.killed', at, id, eventData(rec));
      }
      return rec;
    });
  }

  touch(ids: readonly string[], at: number): Promise<void> {
    return this.gc.enqueue(() => {
      for (const id of ids) this.st.touchSeen.run(at, id, at);
    });
  }

  addBytes(id: string, bytesIn: number, bytesOut: number): Promise<void> {
    return this.gc.enqueue(() => void this.st.addBytes.run(bytesIn, bytesOut, id));
  }

  attach(id: string, conn: ConnRef): Promise<void> {
    return this.gc.enqueue(() => void this.st.attach.run(conn.server, conn.clientId, id, conn.protocol));
  }

  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): Promise<void> {
    return this.gc.enqueue(() => void this.st.detach.run(conn.server, conn.clientId));
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const r = this.st.get.get(id);
    return r && fromRow(r);
  }

  async list(f: SessionFilter, page: Page): Promise<{ items: SessionRecord[]; total: number }> {
    const where: string[] = [];
    const args: unknown[] = [];
    for (const [col, v] of [['status', f.status], ['stream', f.stream], ['account', f.account], ['kind', f.kind], ['server', f.server]] as const) {
      if (v !== undefined) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.db.prepare(`SELECT count(*) FROM sessions ${w}`).pluck().get(...args) as number;
    const rows = this.db.prepare(`SELECT ${COLS} FROM sessions ${w} ORDER BY rowid DESC LIMIT ? OFFSET ?`).all(...args, page.limit, page.offset) as SessionRow[];
    return { items: rows.map(fromRow), total };
  }

  async listLive(): Promise<LiveSessionRow[]> {
    const rows = this.st.live.all().map((r) => ({ session: fromRow(r), conns: [] as ConnRef[] }));
    const byId = new Map(rows.map((r) => [r.session.id, r]));
    for (const c of this.st.liveConns.all()) {
      byId.get(c.session_id)?.conns.push({ server: c.server, clientId: c.client_id, protocol: c.protocol });
    }
    return rows;
  }

  pruneHistory(before: number): Promise<number> {
    return this.gc.enqueue(() => {
      const n = this.st.prune.run(before).changes;
      this.st.pruneEvents.run(before);
      return n;
    });
  }

  async getAccount(id: string): Promise<AccountRecord | undefined> {
    const r = this.st.getAccount.get(id);
    return r && accountFromRow(r);
  }
  putAccount(a: AccountRecord): Promise<void> {
    return this.gc.enqueue(() => void this.st.putAccount.run(a.id, a.plan, a.maxSessions, a.disabled ? 1 : 0, a.updatedAt));
  }
  async listAccounts(): Promise<AccountRecord[]> {
    return this.st.listAccounts.all().map(accountFromRow);
  }
  async getPlan(name: string): Promise<PlanRecord | undefined> {
    const r = this.st.getPlan.get(name);
    return r && planFromRow(r);
  }
  putPlan(p: PlanRecord): Promise<void> {
    return this.gc.enqueue(() => void this.st.putPlan.run(p.name, p.maxSessions, p.onLimit, JSON.stringify(p.exemptStreams),
      JSON.stringify(p.exemptProtocols), p.maxDurationSeconds));
  }
  async listPlans(): Promise<PlanRecord[]> {
    return this.st.listPlans.all().map(planFromRow);
  }

  putDenied(d: DeniedKey): Promise<void> {
    return this.gc.enqueue(() => void this.st.putDenied.run(d.key, d.code, d.reason, d.stream, d.ip, d.until));
  }
  async listDenied(now: number): Promise<DeniedKey[]> {
    return this.st.listDenied.all(now).map((d) => ({ ...d }));
  }
  clearDenied(key?: string): Promise<number> {
    return this.gc.enqueue(() => (key === undefined ? this.st.clearAllDenied.run().changes : this.st.clearDenied.run(key).changes));
  }
  /** Drop expired denied keys (housekeeping). */
  pruneDenied(now: number): Promise<number> {
    return this.gc.enqueue(() => this.st.pruneDenied.run(now).changes);
  }

  async listEvents(afterSeq: number, limit: number): Promise<Array<SessionEvent & { seq: number }>> {
    return this.st.events.all(afterSeq, limit).map((e) => ({
      seq: e.seq, type: e.type as SessionEventType, at: e.at, session: { ...(JSON.parse(e.data) as SessionRecord), token: null },
    }));
  }
}

interface AccountRow { id: string; plan: string | null; max_sessions: number | null; disabled: number; updated_at: number }
interface PlanRow { name: string; max_sessions: number; on_limit: string; exempt_streams: string; exempt_protocols: string; max_duration_seconds: number }

function accountFromRow(r: AccountRow): AccountRecord {
  return { id: r.id, plan: r.plan, maxSessions: r.max_sessions, disabled: r.disabled === 1, updatedAt: r.updated_at };
}
function planFromRow(r: PlanRow): PlanRecord {
  return {
    name: r.name, maxSessions: r.max_sessions, onLimit: r.on_limit as PlanRecord['onLimit'],
    exemptStreams: JSON.parse(r.exempt_streams) as string[], exemptProtocols: JSON.parse(r.exempt_protocols) as string[],
    maxDurationSeconds: r.max_duration_seconds,
  };
}
