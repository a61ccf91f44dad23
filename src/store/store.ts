/**
 * The one storage interface. SQLite (embedded default) and memory implement it; a cluster implementation
 * (Redis for live state + PostgreSQL for records) can implement it the same way. Every implementation passes
 * the shared suite in test/store/suite.ts (undici's cache stores are the model).
 *
 * The rule that shapes it: the limit check and the insert of a new session are ONE atomic operation
 * (`admit`), with every input it needs passed in, so Redis can run it as one script.
 */
import type { AccountRecord, ConnRef, DeniedKey, Kind, PlanRecord, SessionEvent, SessionRecord, Status } from '../core/types.js';

export interface AdmitLimits {
  /** Account whose counted sessions are limited; null = no account limit. */
  account: string | null;
  /** Screens the account may use at once (SPEC §2 "Screens and slots"); 0 = unlimited. */
  maxSessions: number;
  onLimit: 'deny' | 'killOldest';
  /** Active viewers allowed on the stream; 0 = unlimited. */
  streamMaxViewers: number;
  /**
   * A publisher on a (server, stream) that already has a connected publisher with another key: `refuse` it
   * (E_STREAM_BUSY), or `replace` the old one (killed, reason `replaced`); null = the server decides itself.
   */
  busy: 'refuse' | 'replace' | null;
  /**
   * Connections one session may hold at once (a key reconnecting without closing, UDP viewers that outlive their
   * connections): a connection joining a session that holds this many is refused. Undefined = unlimited.
   */
  maxConnections?: number;
}

export interface AdmitOp {
  /** The session to insert when admitted (status active). Its key decides joining. */
  session: SessionRecord;
  /** The connection that asked; attached to the session whether it is new or joined. */
  conn: ConnRef | null;
  limits: AdmitLimits;
  /** Sessions to end in the same atomic step to make room (a takeover): set to `killing`, reason `replaced`. */
  replace?: readonly string[];
}

export type AdmitResult =
  /**
   * A live session with the same key existed: the connection joined it, nothing was counted twice. A session that
   * had lost its last connection takes its slot again (`replaced`: what made room for it).
   */
  | { outcome: 'joined'; session: SessionRecord; replaced: SessionRecord[] }
  /** Inserted. `replaced`: sessions set to `killing` (reason `replaced`) to make room (limit, busy path, takeover). */
  | { outcome: 'admitted'; session: SessionRecord; replaced: SessionRecord[] }
  /**
   * Nothing written: the account, the stream's viewer cap, the busy path, or the session's connection bound is in
   * the way (`active`: who).
   */
  | { outcome: 'limit'; scope: 'account' | 'stream' | 'busy' | 'connections'; active: SessionRecord[] };

export interface SessionFilter {
  status?: Status;
  stream?: string;
  account?: string;
  kind?: Kind;
  server?: string;
}

export type { Page } from '../core/page.js';
import type { Page } from '../core/page.js';

export interface LiveSessionRow {
  session: SessionRecord;
  conns: ConnRef[];
  /** scanLive only: whether it holds a slot now (connected, or connectionless); a lingering session does not. */
  holding?: boolean;
}

/** Figures of the live side, cheap to read at any time (metrics, stats). */
export interface LiveSummary {
  live: number;
  streams: number;
  accounts: number;
}

export interface StreamUse {
  stream: string;
  sessions: number;
  byKind: Record<Kind, number>;
}

/** Whether the store can take writes now (readiness, SPEC §8): a full disk or a dead worker makes it false. */
export interface StoreHealth {
  writable: boolean;
  /** Why not, for /healthz and logs (no secrets). */
  error: string | null;
}

/**
 * Live state: what admission decides on and what changes while sessions run. A cluster keeps it in Redis (the
 * admission decision as one script); SQLite and memory keep it next to their rows.
 */
export interface LiveStore {
  /**
   * Atomic: join a live session with the same key, or check limits (busy path, stream cap, account screens) and
   * insert; `op.replace` and the sessions limits make way for are set to `killing` in the same step. Durable before
   * it resolves.
   */
  admit(op: AdmitOp): Promise<AdmitResult>;
  /**
   * Change a live session's status (`killing`, `ended`, `killed`). A null `reason` keeps the one already recorded
   * (a kill finishing keeps the reason it was ordered with). Returns the updated record, or undefined when the
   * session is unknown or already finished (ended/killed/denied are final).
   */
  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): Promise<SessionRecord | undefined>;
  /** Last sign of life for live sessions (heartbeats, update hooks), batched. */
  touch(ids: readonly string[], at: number): Promise<void>;
  /** Byte counters reported by servers (recorded whatever the session's status: a close event may follow a kick). */
  addBytes(id: string, bytesIn: number, bytesOut: number): Promise<void>;
  /** A connection joins a live session (it holds its slot again). A connection attached elsewhere moves. */
  attach(id: string, conn: ConnRef): Promise<void>;
  /** A connection left; when it was the session's last, the session frees its slot and lingers until it times out. */
  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): Promise<void>;
  /** Every active/killing session with its connections (registry start-up). */
  listLive(): Promise<LiveSessionRow[]>;
  /**
   * Live sessions in admission order (started, then stored), after the session `afterId` ('' = from the start), at
   * most `limit`: reports walk 100,000+ this way, a page at a time. Sessions admitted during a walk come after it.
   */
  scanLive(afterId: string, limit: number): Promise<LiveSessionRow[]>;
  /** Live sessions per stream, busiest first, one page. */
  streamUse(page: Page): Promise<{ items: StreamUse[]; total: number }>;
  /** One account's sessions holding a slot, and the screens they make. */
  accountUse(account: string): Promise<{ sessions: number; screens: number }>;
  /** Synchronous and cheap (the figures of the last answer for a store in another thread). */
  summary(): LiveSummary;

  putDenied(d: DeniedKey): Promise<void>;
  listDenied(now: number): Promise<DeniedKey[]>;
  /** Clear one key, or all when key is undefined. Returns how many were cleared. */
  clearDenied(key?: string): Promise<number>;
  /** Drop the denied keys that expired by `now` (housekeeping). Returns how many. */
  pruneDenied(now: number): Promise<number>;
}

/** One bounded counter of refusals nobody could be named for (forged tokens, anonymous floods). */
export interface DenialCount {
  source: string;
  code: string;
  count: number;
  firstAt: number;
  lastAt: number;
}

/** Durable records: history, accounts, plans, the event outbox. A cluster keeps them in PostgreSQL. */
export interface RecordStore {
  /**
   * Record a refused attempt (status `denied`) for history, or a refused client that was kicked (status `killed`, a
   * client sync found); its outbox event says which.
   */
  recordDenied(session: SessionRecord): Promise<void>;
  /**
   * Count a refusal of a request that carried no verified identity, in one row per (source, code): an anonymous
   * flood grows a counter, never the table. Rows beyond `DENIAL_SOURCES_MAX` sources fold into source `*`.
   */
  countDenial(source: string, code: string, at: number): Promise<void>;
  listDenialCounts(page: Page): Promise<{ items: DenialCount[]; total: number }>;
  get(id: string): Promise<SessionRecord | undefined>;
  list(filter: SessionFilter, page: Page): Promise<{ items: SessionRecord[]; total: number }>;
  /** Delete finished sessions (ended, killed, denied) that ended before `before`. Returns how many. */
  pruneHistory(before: number): Promise<number>;

  getAccount(id: string): Promise<AccountRecord | undefined>;
  putAccount(a: AccountRecord): Promise<void>;
  listAccounts(): Promise<AccountRecord[]>;
  getPlan(name: string): Promise<PlanRecord | undefined>;
  putPlan(p: PlanRecord): Promise<void>;
  listPlans(): Promise<PlanRecord[]>;

  /** Events written in the same transaction as the change they describe, oldest first, after `afterSeq`. */
  listEvents(afterSeq: number, limit: number): Promise<Array<SessionEvent & { seq: number }>>;
}

/** Distinct sources with a denial counter of their own; the rest share source `*`. */
export const DENIAL_SOURCES_MAX = 10_000;

/**
 * The one storage port: the live side and the records side (split so a cluster can put one on Redis and the other
 * on PostgreSQL), opened and closed together. Every implementation passes test/store/suite.ts.
 */
export interface Store extends LiveStore, RecordStore {
  /** Open, migrate. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Synchronous and cheap: read by /healthz on every probe and by admission before it answers. */
  health(): StoreHealth;
}

/** Which statuses are live (hold a slot or a connection). */
export const isLive = (s: Status): boolean => s === 'active' || s === 'killing';
