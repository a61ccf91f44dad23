/**
 * The SQLite engine (better-sqlite3, WAL): every store operation as a synchronous method, and `runBatch`, which
 * runs many of them in ONE transaction (group commit: one fsync for the batch). It runs in the store's worker
 * thread (sqlite-worker.ts), so commits and their fsync never block the event loop that serves requests.
 *
 * Its public methods are exactly the store port (`EngineApi`, checked by the compiler); helpers are `#private`, so a
 * batch can name nothing else.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database, { type Database as Db, type Statement } from 'better-sqlite3';
import type { AccountRecord, ConnRef, DeniedKey, Kind, PlanRecord, SessionEvent, SessionEventType, SessionRecord } from '../core/types.js';
import { AdmissionState } from './admission-state.js';
import { DenialCounter } from './denial-counter.js';
import { MIGRATIONS } from './migrations.js';
import { COLS, fromRow, P, toParams, type AdmitRow, type SessionRow } from './rows.js';
import type { AdmitOp, AdmitResult, DenialCount, LiveSessionRow, LiveStore, LiveSummary, Page, RecordStore, SessionFilter, StreamUse } from './store.js';

export interface SqliteOptions {
  path: string;
  synchronous: 'full' | 'normal';
}

/** The store port as the worker runs it: every LiveStore and RecordStore method, synchronous. */
export type EngineApi = {
  [K in Exclude<keyof (LiveStore & RecordStore), 'summary'>]: (...args: Parameters<(LiveStore & RecordStore)[K]>) => Awaited<ReturnType<(LiveStore & RecordStore)[K]>>;
} & {
  /** The hot path's compact `admit` (a flat row crosses the thread boundary): `1` for admitted-nothing-replaced. */
  admitRow(row: AdmitRow): AdmitResult | 1;
  /** A one-row write: succeeds once the disk takes writes again (readiness recovers without waiting for traffic). */
  probe(at: number): void;
};

export type EngineMethod = keyof EngineApi;
/** One operation of a batch: a method of the port and its arguments, typed together. */
export type EngineOp = { [K in EngineMethod]: [method: K, args: Parameters<EngineApi[K]>] }[EngineMethod];
export type EngineResult = { ok: true; v: unknown } | { ok: false; message: string; code: string | null };

/** Engine members that are not operations of the port (a batch may not name them). */
export const NOT_OPS: ReadonlySet<string> = new Set(['constructor', 'init', 'runBatch', 'prepare', 'close', 'version', 'summary', 'commitStats', 'totalChanges']);

/** SQLite result codes that mean "cannot write now" (a full disk, an I/O error, a read-only file): readiness fails. */
export const STORAGE_ERRORS = /^SQLITE_(FULL|IOERR|READONLY|CANTOPEN|CORRUPT|NOTADB)/;

export class SqliteEngine implements EngineApi {
  #db!: Db;
  readonly #state = new AdmissionState();
  readonly #denials = new DenialCounter();
  #undo: Array<() => void> = [];
  #st!: ReturnType<SqliteEngine['prepare']>;
  #batches = 0;
  #ops = 0;

  constructor(private readonly opts: SqliteOptions) {}

  init(): void {
    if (this.opts.path !== ':memory:') {
      mkdirSync(dirname(this.opts.path), { recursive: true });
      // The file holds live tokens: readable by its owner only, and so are the WAL and shared-memory files SQLite
      // creates next to it (it copies the main file's permissions onto them).
      if (!existsSync(this.opts.path)) closeSync(openSync(this.opts.path, 'a', 0o600));
      chmodSync(this.opts.path, 0o600);
    }
    this.#db = new Database(this.opts.path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${this.opts.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
    this.#db.pragma('busy_timeout = 5000');
    this.#db.pragma('foreign_keys = ON');
    this.#migrate();
    this.#st = this.prepare();
    const conns = new Map<string, number>();
    for (const c of this.#st.liveConns.all()) conns.set(c.session_id, (conns.get(c.session_id) ?? 0) + 1);
    for (const r of this.#st.active.all()) {
      if (r.status !== 'active') continue;
      this.#state.add({ ...r, counted: r.counted === 1, kind: r.kind as Kind }, conns.get(r.id) ?? 0);
    }
    for (const r of this.#st.denialCounts.all()) this.#denials.load([denialFromRow(r)]);
  }

  /** Schema version now in the file. */
  version(): number {
    return this.#db.pragma('user_version', { simple: true }) as number;
  }

  /** Rows changed since the connection opened (tells whether a batch wrote anything). */
  totalChanges(): number {
    return this.#st.totalChanges.get() as number;
  }

  get commitStats(): { batches: number; ops: number } {
    return { batches: this.#batches, ops: this.#ops };
  }

  summary(): LiveSummary {
    return { live: this.#state.size, streams: this.#state.streamCount, accounts: this.#state.accountCount };
  }

  /**
   * Run operations in one transaction and commit once. If one throws, the transaction rolls back (and the
   * in-memory admission state with it) and each operation is run alone, so only the faulty one fails.
   */
  runBatch(ops: readonly EngineOp[]): EngineResult[] {
    const results: EngineResult[] = new Array(ops.length);
    this.#undo = [];
    try {
      this.#db.transaction(() => {
        for (let i = 0; i < ops.length; i++) results[i] = { ok: true, v: this.#dispatch(ops[i]) };
      })();
      this.#batches++;
      this.#ops += ops.length;
      return results;
    } catch {
      this.#rollbackMemory();
    }
    return ops.map((op) => {
      this.#undo = [];
      try {
        const v = this.#db.transaction(() => this.#dispatch(op))();
        this.#batches++;
        this.#ops++;
        return { ok: true as const, v };
      } catch (e) {
        this.#rollbackMemory();
        const code = (e as { code?: unknown }).code;
        return { ok: false as const, message: (e as Error).message, code: typeof code === 'string' ? code : null };
      }
    });
  }

  #rollbackMemory(): void {
    for (let i = this.#undo.length - 1; i >= 0; i--) this.#undo[i]();
    this.#undo = [];
  }

  #dispatch([method, args]: EngineOp): unknown {
    const fn = (this as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function' || NOT_OPS.has(method)) throw new Error(`no store method ${String(method)}`);
    return (fn as (...a: unknown[]) => unknown).apply(this, args);
  }

  #migrate(): void {
    const v = this.version();
    if (v > MIGRATIONS.length) throw new Error(`database schema version ${v} is newer than this Usher (${MIGRATIONS.length})`);
    for (let i = v; i < MIGRATIONS.length; i++) {
      this.#db.transaction(() => {
        this.#db.exec(MIGRATIONS[i]);
        this.#db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  private prepare() {
    const d = this.#db;
    return {
      insert: d.prepare(`INSERT INTO sessions (${COLS}) VALUES (${COLS.split(',').map(() => '?').join(',')})`),
      active: d.prepare(`SELECT id, key, account, counted, kind, stream, server, device, status FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid`) as Statement<[], { id: string; key: string; account: string | null; counted: number; kind: string; stream: string; server: string; device: string | null; status: string }>,
      touchSeen: d.prepare(`UPDATE sessions SET last_seen = ? WHERE id = ? AND status IN ('active', 'killing') AND last_seen < ?`),
      joinSeen: d.prepare(`UPDATE sessions SET last_seen = max(last_seen, ?) WHERE id = ?`),
      setStatus: d.prepare(`UPDATE sessions SET status = ?, reason = coalesce(?, reason), ended_at = ? WHERE id = ? AND status IN ('active', 'killing')`),
      get: d.prepare(`SELECT ${COLS} FROM sessions WHERE id = ?`) as Statement<[string], SessionRow>,
      live: d.prepare(`SELECT ${COLS} FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid`) as Statement<[], SessionRow>,
      // keyset pages over sessions_live (started_at, then rowid: admission order), resumed after a session's place
      scanFirst: d.prepare(`SELECT ${COLS} FROM sessions WHERE status IN ('active', 'killing') ORDER BY started_at, rowid LIMIT ?`) as Statement<[number], SessionRow>,
      placeOf: d.prepare(`SELECT started_at, rowid FROM sessions WHERE id = ?`) as Statement<[string], { started_at: number; rowid: number }>,
      scanAfter: d.prepare(`SELECT ${COLS} FROM sessions WHERE status IN ('active', 'killing') AND (started_at > ? OR (started_at = ? AND rowid > ?))
        ORDER BY started_at, rowid LIMIT ?`) as Statement<[number, number, number, number], SessionRow>,
      liveConns: d.prepare(`SELECT server, client_id, session_id, protocol, instance FROM conns`) as Statement<[], ConnRow & { session_id: string }>,
      connsOf: d.prepare(`SELECT server, client_id, protocol, instance FROM conns WHERE session_id = ?`) as Statement<[string], ConnRow>,
      addBytes: d.prepare(`UPDATE sessions SET bytes_in = bytes_in + ?, bytes_out = bytes_out + ? WHERE id = ?`),
      connOwner: d.prepare(`SELECT session_id FROM conns WHERE server = ? AND client_id = ?`).pluck() as Statement<[string, string], string>,
      attach: d.prepare(`INSERT INTO conns (server, client_id, session_id, protocol, instance) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (server, client_id) DO UPDATE SET session_id = excluded.session_id, protocol = excluded.protocol, instance = excluded.instance`),
      detach: d.prepare(`DELETE FROM conns WHERE server = ? AND client_id = ? RETURNING session_id`).pluck() as Statement<[string, string], string>,
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
      totalChanges: d.prepare(`SELECT total_changes()`).pluck(),
      probe: d.prepare(`INSERT INTO probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at`),
      denialCounts: d.prepare(`SELECT * FROM denial_counts`) as Statement<[], DenialRow>,
      countDenial: d.prepare(`INSERT INTO denial_counts (source, code, count, first_at, last_at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT (source, code) DO UPDATE SET count = excluded.count, last_at = excluded.last_at`),
    };
  }

  close(): void {
    this.#db?.close();
  }

  // ── live side ─────────────────────────────────────────────────────────────────────────────

  probe(at: number): void {
    this.#st.probe.run(at);
  }

  /** Join, or check limits and insert — atomically (it runs inside the batch's transaction). */
  admit(op: AdmitOp): AdmitResult {
    const s = op.session;
    const st = this.#st;
    const d = this.#state.decide(s, op.limits, op.replace, op.conn !== null);
    if (d.kind === 'limit') return { outcome: 'limit', scope: d.scope, active: d.ids.map((id) => fromRow(st.get.get(id)!)) };
    const replaced = d.replace.map((id) => {
      st.setStatus.run('killing', 'replaced', null, id);
      this.#leave(id);
      return fromRow(st.get.get(id)!);
    });
    if (d.kind === 'joined' || d.kind === 'rejoined') {
      st.joinSeen.run(s.startedAt, d.id);
      if (op.conn) this.#attachConn(d.id, op.conn);
      else this.#connectionless(d.id);
      return { outcome: 'joined', session: fromRow(st.get.get(d.id)!), replaced };
    }
    st.insert.run(...toParams(s));
    this.#enter(s, op.conn !== null);
    if (op.conn) st.attach.run(op.conn.server, op.conn.clientId, s.id, op.conn.protocol, op.conn.instance ?? null);
    st.event.run('session.started', s.startedAt, s.id, null);
    return { outcome: 'admitted', session: { ...s }, replaced };
  }

  admitRow(row: AdmitRow): AdmitResult | 1 {
    const [params, conn, limits] = row;
    const session = {
      id: params[P.id] as string, key: params[P.key] as string, kind: params[P.kind] as Kind, stream: params[P.stream] as string,
      account: params[P.account] as string | null, counted: params[P.counted] === 1, startedAt: params[P.startedAt] as number,
      server: params[P.server] as string, device: params[P.device] as string | null,
    };
    const lim = { account: limits[0], maxSessions: limits[1], onLimit: limits[2], streamMaxViewers: limits[3], busy: limits[4], maxConnections: limits[5] ?? undefined };
    const d = this.#state.decide(session, lim, [], conn !== null);
    if (d.kind !== 'admit' || d.replace.length > 0) {
      return this.admit({
        session: fromRow(Object.fromEntries(COLS.split(', ').map((c, i) => [c, params[i]])) as unknown as SessionRow),
        conn: conn && connOf({ server: conn[0], client_id: conn[1], protocol: conn[2], instance: conn[3] }),
        limits: lim,
      });
    }
    this.#st.insert.run(...params);
    this.#enter(session, conn !== null);
    if (conn) this.#st.attach.run(conn[0], conn[1], session.id, conn[2], conn[3]);
    this.#st.event.run('session.started', session.startedAt, session.id, null);
    return 1;
  }

  /** A new session enters the admission state; a rollback takes it out again. */
  #enter(s: Parameters<AdmissionState['add']>[0], connected: boolean): void {
    const e = this.#state.add(s, connected ? 1 : 0);
    this.#undo.push(() => this.#state.remove(e.id));
  }

  /** A session leaves the admission state, remembering how to put it back if the transaction rolls back. */
  #leave(id: string): void {
    const e = this.#state.remove(id);
    if (e) this.#undo.push(() => this.#state.restore(e));
  }

  #attachConn(id: string, conn: ConnRef): void {
    const prev = this.#st.connOwner.get(conn.server, conn.clientId);
    if (prev === id) return;
    if (prev !== undefined) this.#detachFrom(prev);
    this.#st.attach.run(conn.server, conn.clientId, id, conn.protocol, conn.instance ?? null);
    this.#state.attach(id);
    this.#undo.push(() => this.#state.detach(id));
  }

  #detachFrom(id: string): void {
    const e = this.#state.get(id);
    if (!e || e.conns === 0) return;
    this.#state.detach(id);
    // a rolled-back detach gives the connection (and with it the slot) back
    this.#undo.push(() => this.#state.attach(id));
  }

  #connectionless(id: string): void {
    const e = this.#state.get(id);
    if (!e || e.connectionless) return;
    this.#state.setConnectionless(id, true);
    this.#undo.push(() => this.#state.setConnectionless(id, false));
  }

  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): SessionRecord | undefined {
    const row = this.#st.get.get(id);
    if (!row || (row.status !== 'active' && row.status !== 'killing')) return undefined;
    if (status === 'killing' && row.status === 'killing') return fromRow(row);
    const endedAt = status === 'killing' ? null : at;
    this.#st.setStatus.run(status, reason, endedAt, id);
    this.#leave(id);
    const rec: SessionRecord = { ...fromRow(row), status, reason: reason ?? row.reason, endedAt };
    if (status !== 'killing') {
      this.#st.detachSession.run(id);
      this.#st.event.run(status === 'ended' ? 'session.ended' : 'session.killed', at, id, rec.reason);
    }
    return rec;
  }

  touch(ids: readonly string[], at: number): void {
    for (const id of ids) this.#st.touchSeen.run(at, id, at);
  }

  addBytes(id: string, bytesIn: number, bytesOut: number): void {
    this.#st.addBytes.run(bytesIn, bytesOut, id);
  }

  attach(id: string, conn: ConnRef): void {
    if (!this.#state.get(id)) return;
    this.#attachConn(id, conn);
  }

  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): void {
    const id = this.#st.detach.get(conn.server, conn.clientId);
    if (id !== undefined) this.#detachFrom(id);
  }

  listLive(): LiveSessionRow[] {
    const rows = this.#st.live.all().map((r) => ({ session: fromRow(r), conns: [] as ConnRef[] }));
    const byId = new Map(rows.map((r) => [r.session.id, r]));
    for (const c of this.#st.liveConns.all()) {
      byId.get(c.session_id)?.conns.push(connOf(c));
    }
    return rows;
  }

  scanLive(afterId: string, limit: number): LiveSessionRow[] {
    let rows: SessionRow[];
    if (afterId === '') rows = this.#st.scanFirst.all(limit);
    else {
      // rows of live sessions are never deleted (only finished ones are pruned), so the place is there
      const at = this.#st.placeOf.get(afterId);
      if (!at) throw new Error(`scanLive: no session ${afterId} to resume after`);
      rows = this.#st.scanAfter.all(at.started_at, at.started_at, at.rowid, limit);
    }
    return rows.map((r) => ({
      session: fromRow(r),
      holding: this.#state.get(r.id)?.holding ?? false,
      conns: this.#st.connsOf.all(r.id).map(connOf),
    }));
  }

  streamUse(page: Page): { items: StreamUse[]; total: number } {
    return this.#state.streamUse(page);
  }

  accountUse(account: string): { sessions: number; screens: number } {
    return this.#state.accountUse(account);
  }

  putDenied(d: DeniedKey): void {
    this.#st.putDenied.run(d.key, d.code, d.reason, d.stream, d.ip, d.until);
  }
  listDenied(now: number): DeniedKey[] {
    return this.#st.listDenied.all(now).map((d) => ({ ...d }));
  }
  clearDenied(key?: string | null): number {
    return key === undefined || key === null ? this.#st.clearAllDenied.run().changes : this.#st.clearDenied.run(key).changes;
  }
  pruneDenied(now: number): number {
    return this.#st.pruneDenied.run(now).changes;
  }

  // ── records side ──────────────────────────────────────────────────────────────────────────

  recordDenied(session: SessionRecord): void {
    this.#st.insert.run(...toParams(session));
    // a refused client that was kicked (sync found it) is told as killed, like its row says
    this.#st.event.run(session.status === 'killed' ? 'session.killed' : 'session.denied', session.endedAt ?? session.startedAt, session.id, session.reason);
  }

  countDenial(source: string, code: string, at: number): void {
    const r = this.#denials.count(source, code, at);
    this.#undo.push(() => this.#denials.uncount(r));
    this.#st.countDenial.run(r.source, r.code, r.count, r.firstAt, r.lastAt);
  }

  listDenialCounts(page: Page): { items: DenialCount[]; total: number } {
    return this.#denials.page(page);
  }

  get(id: string): SessionRecord | undefined {
    const r = this.#st.get.get(id);
    return r && fromRow(r);
  }

  list(f: SessionFilter, page: Page): { items: SessionRecord[]; total: number } {
    const where: string[] = [];
    const args: unknown[] = [];
    // repeat the partial index's condition so SQLite can use it for live listings
    if (f.status === 'active' || f.status === 'killing') where.push(`status IN ('active', 'killing')`);
    for (const [col, v] of [['status', f.status], ['stream', f.stream], ['account', f.account], ['kind', f.kind], ['server', f.server]] as const) {
      if (v !== undefined && v !== null) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    }
    const w = where.length ? `WHERE ${where.join(' AND ')}` : '';
    const total = this.#db.prepare(`SELECT count(*) FROM sessions ${w}`).pluck().get(...args) as number;
    const rows = this.#db.prepare(`SELECT ${COLS} FROM sessions ${w} ORDER BY rowid DESC LIMIT ? OFFSET ?`).all(...args, page.limit, page.offset) as SessionRow[];
    return { items: rows.map(fromRow), total };
  }

  pruneHistory(before: number): number {
    const n = this.#st.prune.run(before).changes;
    this.#st.pruneEvents.run(before);
    return n;
  }

  getAccount(id: string): AccountRecord | undefined {
    const r = this.#st.getAccount.get(id);
    return r && accountFromRow(r);
  }
  putAccount(a: AccountRecord): void {
    this.#st.putAccount.run(a.id, a.plan, a.maxSessions, a.disabled ? 1 : 0, a.updatedAt);
  }
  listAccounts(): AccountRecord[] {
    return this.#st.listAccounts.all().map(accountFromRow);
  }
  getPlan(name: string): PlanRecord | undefined {
    const r = this.#st.getPlan.get(name);
    return r && planFromRow(r);
  }
  putPlan(p: PlanRecord): void {
    this.#st.putPlan.run(p.name, p.maxSessions, p.onLimit, JSON.stringify(p.exemptStreams), JSON.stringify(p.exemptProtocols), p.maxDurationSeconds);
  }
  listPlans(): PlanRecord[] {
    return this.#st.listPlans.all().map(planFromRow);
  }

  listEvents(afterSeq: number, limit: number): Array<SessionEvent & { seq: number }> {
    return this.#st.events.all(afterSeq, limit).map((e) => {
      const session = { ...fromRow(e), token: null };
      // show the session as it was at the event
      if (e.type === 'session.started') Object.assign(session, { status: 'active', reason: null, endedAt: null });
      else Object.assign(session, { status: e.type === 'session.ended' ? 'ended' : e.type === 'session.killed' ? 'killed' : 'denied', reason: e.ev_reason, endedAt: e.at });
      return { seq: e.seq, type: e.type as SessionEventType, at: e.at, session };
    });
  }
}

interface AccountRow { id: string; plan: string | null; max_sessions: number | null; disabled: number; updated_at: number }
interface PlanRow { name: string; max_sessions: number; on_limit: string; exempt_streams: string; exempt_protocols: string; max_duration_seconds: number }
interface ConnRow { server: string; client_id: string; protocol: string; instance: string | null }
interface DenialRow { source: string; code: string; count: number; first_at: number; last_at: number }

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
function connOf(r: ConnRow): ConnRef {
  const c: ConnRef = { server: r.server, clientId: r.client_id, protocol: r.protocol };
  if (r.instance !== null) c.instance = r.instance;
  return c;
}
function denialFromRow(r: DenialRow): DenialCount {
  return { source: r.source, code: r.code, count: r.count, firstAt: r.first_at, lastAt: r.last_at };
}
