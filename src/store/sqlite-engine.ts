/**
 * The SQLite engine (better-sqlite3, WAL): every store operation as a synchronous method, and `runBatch`, which
 * runs many of them in ONE transaction (group commit: one fsync for the batch). It runs in the store's worker
 * thread (sqlite-worker.ts), so commits and their fsync never block the event loop that serves requests.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { AccountRecord, ConnRef, DeniedKey, Kind, PlanRecord, SessionEvent, SessionEventType, SessionRecord, Status } from '../core/types.js';
import { HotIndex } from './hot-index.js';
import { MIGRATIONS } from './migrations.js';
import { COLS, fromRow, P, toParams, type AdmitRow, type SessionRow } from './rows.js';
import type { AdmitOp, AdmitResult, LiveSessionRow, Page, SessionFilter } from './store.js';

export interface SqliteOptions {
  path: string;
  synchronous: 'full' | 'normal';
}

/** One operation of a batch: a method name of the engine and its arguments. */
export type EngineOp = [method: string, args: unknown[]];
export type EngineResult = { ok: true; v: unknown } | { ok: false; message: string };

export class SqliteEngine {
  private db!: Db;
  private readonly hot = new HotIndex();
  private undo: Array<() => void> = [];
  private st!: ReturnType<SqliteEngine['prepare']>;
  batches = 0;
  ops = 0;

  constructor(private readonly opts: SqliteOptions) {}

  init(): void {
    if (this.opts.path !== ':memory:') mkdirSync(dirname(this.opts.path), { recursive: true });
    this.db = new Database(this.opts.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${this.opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.st = this.prepare();
    for (const r of this.st.active.all()) {
      if (r.status === 'active') this.hot.add({ ...r, counted: r.counted === 1, kind: r.kind as Kind });
    }

  }

  /** Schema version now in the file. */
  version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  /**
   * Run operations in one transaction and commit once. If one throws, the transaction rolls back (and the
   * in-memory admission state with it) and each operation is run alone, so only the faulty one fails.
   */
  runBatch(ops: readonly EngineOp[]): EngineResult[] {
    const results: EngineResult[] = new Array(ops.length);
    this.undo = [];
    try {
      this.db.transaction(() => {
        for (let i = 0; i < ops.length; i++) results[i] = { ok: true, v: this.dispatch(ops[i]) };
      })();
      this.batches++;
      this.ops += ops.length;
      return results;
    } catch {
      this.rollbackMemory();
    }
    return ops.map((op) => {
      this.undo = [];
      try {
        const v = this.db.transaction(() => this.dispatch(op))();
        this.batches++;
        this.ops++;
        return { ok: true as const, v };
      } catch (e) {
        this.rollbackMemory();
        return { ok: false as const, message: (e as Error).message };
      }
    });
  }

  private rollbackMemory(): void {
    for (let i = this.undo.length - 1; i >= 0; i--) this.undo[i]();
    this.undo = [];
  }

  private dispatch([method, args]: EngineOp): unknown {
    const fn = (this as unknown as Record<string, (...a: unknown[]) => unknown>)[method];
    if (typeof fn !== 'function' || !ENGINE_METHODS.has(method)) throw new Error(`no store method ${method}`);
    return fn.apply(this, args);
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
      insert: d.prepare(`INSERT INTO sessions (${COLS}) VALUES (${COLS.split(',').map(() => '?').join(',')})`),
      active: d.prepare(`SELECT id, key, account, counted, kind, stream, status FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid`) as Statement<[], { id: string; key: string; account: string | null; counted: number; kind: string; stream: string; status: string }>,
      touchSeen: d.prepare(`UPDATE sessions SET last_seen = ? WHERE id = ? AND status IN ('active', 'killing') AND last_seen < ?`),
      joinSeen: d.prepare(`UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ?`),
      setStatus: d.prepare(`UPDATE sessions SET status = ?, reason = coalesce(?, reason), ended_at = ? WHERE id = ? AND status IN ('active', 'killing')`),
      get: d.prepare(`SELECT ${COLS} FROM sessions WHERE id = ?`) as Statement<[string], SessionRow>,
      live: d.prepare(`SELECT ${COLS} FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid`) as Statement<[], SessionRow>,
      liveConns: d.prepare(`SELECT c.server, c.client_id, c.session_id, c.protocol FROM conns c`) as Statement<[], { server: string; client_id: string; session_id: string; protocol: string }>,
      addBytes: d.prepare(`UPDATE sessions SET bytes_in = bytes_in + ?, bytes_out = bytes_out + ? WHERE id = ?`),
      attach: d.prepare(`INSERT INTO conns (server, client_id, session_id, protocol) VALUES (?, ?, ?, ?) ON CONFLICT (server, client_id) DO UPDATE SET session_id = excluded.session_id, protocol = excluded.protocol`),
      detach: d.prepare(`DELETE FROM conns WHERE server = ? AND client_id = ?`),
      detachSession: d.prepare(`DELETE FROM conns WHERE session_id = ?`),
      event: d.prepare(`INSERT INTO events (type, at, session_id, reason) VALUES (?, ?, ?, ?)`),
      // an event is the transition; the session's other fields come from its row (no copy per event)
      events: d.prepare(`SELECT e.seq, e.type, e.at, e.reason AS ev_reason, ${COLS.split(', ').map((c) => `s.${c}`).join(', ')}
        FROM events e JOIN sessions s ON s.id = e.session_id WHERE e.seq > ? ORDER BY e.seq LIMIT ?`) as Statement<[number, number], SessionRow & { seq: number; type: string; at: number; ev_reason: string | null }>,
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

  close(): void {
    this.db?.close();
  }

  /** Join, or check limits and insert — atomically (it runs inside the batch's transaction). */
  admit(op: AdmitOp): AdmitResult {
    const s = op.session;
    const st = this.st;
    const d = this.hot.decide(s, op.limits);
    if (d.kind === 'joined') {
      st.joinSeen.run(s.startedAt, d.id);
      if (op.conn) st.attach.run(op.conn.server, op.conn.clientId, d.id, op.conn.protocol);
      return { outcome: 'joined', session: fromRow(st.get.get(d.id)!) };
    }
    if (d.kind === 'limit') return { outcome: 'limit', scope: d.scope, active: d.ids.map((id) => fromRow(st.get.get(id)!)) };
    const replaced: SessionRecord[] = [];
    for (const id of d.replace) {
      st.setStatus.run('killing', 'replaced', null, id);
      this.leaveActive(id);
      replaced.push(fromRow(st.get.get(id)!));
    }
    st.insert.run(...toParams(s));
    const e = this.hot.add(s);
    this.undo.push(() => this.hot.remove(e.id));
    if (op.conn) st.attach.run(op.conn.server, op.conn.clientId, s.id, op.conn.protocol);
    st.event.run('session.started', s.startedAt, s.id, null);
    return { outcome: 'admitted', session: { ...s }, replaced };
  }

  /**
   * The hot path's compact form of `admit` (what crosses the thread boundary is a flat row, not an object):
   * answers `1` for the common case — admitted, nothing replaced — and the full result otherwise.
   */
  admitRow(row: AdmitRow): AdmitResult | 1 {
    const [params, conn, limits] = row;
    const session = {
      id: params[P.id] as string, key: params[P.key] as string, kind: params[P.kind] as Kind, stream: params[P.stream] as string,
      account: params[P.account] as string | null, counted: params[P.counted] === 1, startedAt: params[P.startedAt] as number,
    };
    const d = this.hot.decide(session, { account: limits[0], maxSessions: limits[1], onLimit: limits[2], streamMaxViewers: limits[3] });
    if (d.kind !== 'admit' || d.replace.length > 0) {
      return this.admit({
        session: fromRow(Object.fromEntries(COLS.split(', ').map((c, i) => [c, params[i]])) as unknown as SessionRow),
        conn: conn && { server: conn[0], clientId: conn[1], protocol: conn[2] },
        limits: { account: limits[0], maxSessions: limits[1], onLimit: limits[2], streamMaxViewers: limits[3] },
      });
    }
    this.st.insert.run(...params);
    const e = this.hot.add(session);
    this.undo.push(() => this.hot.remove(e.id));
    if (conn) this.st.attach.run(conn[0], conn[1], session.id, conn[2]);
    this.st.event.run('session.started', session.startedAt, session.id, null);
    return 1;
  }

  /** Drop a session from the admission state, remembering how to put it back if the transaction rolls back. */
  private leaveActive(id: string): void {
    const e = this.hot.remove(id);
    if (e) this.undo.push(() => this.hot.restore(e));
  }

  recordDenied(session: SessionRecord): void {
    this.st.insert.run(...toParams(session));
    this.st.event.run('session.denied', session.startedAt, session.id, session.reason);
  }

  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): SessionRecord | undefined {
    const row = this.st.get.get(id);
    if (!row || (row.status !== 'active' && row.status !== 'killing')) return undefined;
    if (status === 'killing' && row.status === 'killing') return fromRow(row);
    const endedAt = status === 'killing' ? null : at;
    this.st.setStatus.run(status, reason, endedAt, id);
    this.leaveActive(id);
    const rec: SessionRecord = { ...fromRow(row), status, reason: reason ?? row.reason, endedAt };
    if (status !== 'killing') {
      this.st.detachSession.run(id);
      this.st.event.run(status === 'ended' ? 'session.ended' : 'session.killed', at, id, rec.reason);
    }
    return rec;
  }

  touch(ids: readonly string[], at: number): void {
    for (const id of ids) this.st.touchSeen.run(at, id, at);
  }

  addBytes(id: string, bytesIn: number, bytesOut: number): void {
    this.st.addBytes.run(bytesIn, bytesOut, id);
  }

  attach(id: string, conn: ConnRef): void {
    this.st.attach.run(conn.server, conn.clientId, id, conn.protocol);
  }

  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): void {
    this.st.detach.run(conn.server, conn.clientId);
  }

  get(id: string): SessionRecord | undefined {
    const r = this.st.get.get(id);
    return r && fromRow(r);
  }

  list(f: SessionFilter, page: Page): { items: SessionRecord[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    // repeat the partial index's condition so SQLite can use it for live listings
    if (f.status === 'active' || f.status === 'killing') where.push(`status IN ('active', 'killing')`);
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

  listLive(): LiveSessionRow[] {
    const rows = this.st.live.all().map((r) => ({ session: fromRow(r), conns: [] as ConnRef[] }));
    const byId = new Map(rows.map((r) => [r.session.id, r]));
    for (const c of this.st.liveConns.all()) {
      byId.get(c.session_id)?.conns.push({ server: c.server, clientId: c.client_id, protocol: c.protocol });
    }
    return rows;
  }

  pruneHistory(before: number): number {
    const n = this.st.prune.run(before).changes;
    this.st.pruneEvents.run(before);
    return n;
  }

  getAccount(id: string): AccountRecord | undefined {
    const r = this.st.getAccount.get(id);
    return r && accountFromRow(r);
  }
  putAccount(a: AccountRecord): void {
    this.st.putAccount.run(a.id, a.plan, a.maxSessions, a.disabled ? 1 : 0, a.updatedAt);
  }
  listAccounts(): AccountRecord[] {
    return this.st.listAccounts.all().map(accountFromRow);
  }
  getPlan(name: string): PlanRecord | undefined {
    const r = this.st.getPlan.get(name);
    return r && planFromRow(r);
  }
  putPlan(p: PlanRecord): void {
    this.st.putPlan.run(p.name, p.maxSessions, p.onLimit, JSON.stringify(p.exemptStreams), JSON.stringify(p.exemptProtocols), p.maxDurationSeconds);
  }
  listPlans(): PlanRecord[] {
    return this.st.listPlans.all().map(planFromRow);
  }

  putDenied(d: DeniedKey): void {
    this.st.putDenied.run(d.key, d.code, d.reason, d.stream, d.ip, d.until);
  }
  listDenied(now: number): DeniedKey[] {
    return this.st.listDenied.all(now).map((d) => ({ ...d }));
  }
  clearDenied(key?: string | null): number {
    return key === undefined || key === null ? this.st.clearAllDenied.run().changes : this.st.clearDenied.run(key).changes;
  }
  pruneDenied(now: number): number {
    return this.st.pruneDenied.run(now).changes;
  }

  listEvents(afterSeq: number, limit: number): Array<SessionEvent & { seq: number }> {
    return this.st.events.all(afterSeq, limit).map((e) => {
      const session = { ...fromRow(e), token: null };
      // show the session as it was at the event
      if (e.type === 'session.started') Object.assign(session, { status: 'active', reason: null, endedAt: null });
      else Object.assign(session, { status: e.type === 'session.ended' ? 'ended' : e.type === 'session.killed' ? 'killed' : 'denied', reason: e.ev_reason, endedAt: e.at });
      return { seq: e.seq, type: e.type as SessionEventType, at: e.at, session };
    });
  }
}

/** The operations a batch may name (the Store interface, minus init/close). */
export const ENGINE_METHODS: ReadonlySet<string> = new Set([
  'admit', 'admitRow', 'recordDenied', 'setStatus', 'touch', 'addBytes', 'attach', 'detach', 'get', 'list', 'listLive', 'pruneHistory',
  'getAccount', 'putAccount', 'listAccounts', 'getPlan', 'putPlan', 'listPlans', 'putDenied', 'listDenied', 'clearDenied',
  'pruneDenied', 'listEvents',
]);

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
