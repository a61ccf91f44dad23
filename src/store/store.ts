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
  /** Active counted sessions allowed for the account; 0 = unlimited. */
  maxSessions: number;
  onLimit: 'deny' | 'killOldest';
  /** Active viewers allowed on the stream; 0 = unlimited. */
  streamMaxViewers: number;
}

export interface AdmitOp {
  /** The session to insert when admitted (status active). Its key decides joining. */
  session: SessionRecord;
  /** The connection that asked; attached to the session whether it is new or joined. */
  conn: ConnRef | null;
  limits: AdmitLimits;
}

export type AdmitResult =
  /** A live session with the same key existed: the connection joined it, nothing was counted twice. */
  | { outcome: 'joined'; session: SessionRecord }
  /** Inserted. `replaced` are the oldest sessions set to `killing` (reason `replaced`) to make room. */
  | { outcome: 'admitted'; session: SessionRecord; replaced: SessionRecord[] }
  /** Nothing written: the account (or the stream's viewer cap) is full. `active` = the sessions in the way. */
  | { outcome: 'limit'; scope: 'account' | 'stream'; active: SessionRecord[] };

export interface SessionFilter {
  status?: Status;
  stream?: string;
  account?: string;
  kind?: Kind;
  server?: string;
}

export interface Page {
  limit: number;
  offset: number;
}

export interface LiveSessionRow {
  session: SessionRecord;
  conns: ConnRef[];
}

/** Whether the store can take writes now (readiness, SPEC §8): a full disk or a dead worker makes it false. */
export interface StoreHealth {
  writable: boolean;
  /** Why not, for /healthz and logs (no secrets). */
  error: string | null;
}

export interface Store {
  /** Open, migrate. */
  init(): Promise<void>;
  close(): Promise<void>;
  /** Synchronous and cheap: read by /healthz on every probe and by admission before it answers. */
  health(): StoreHealth;

  /** Atomic: join an active session with the same key, or check limits and insert. Durable before it resolves. */
  admit(op: AdmitOp): Promise<AdmitResult>;
  /** Record a refused attempt (status denied) for history/analytics. */
  recordDenied(session: SessionRecord): Promise<void>;
  /**
   * Change a live session's status (`killing`, `ended`, `killed`). A null `reason` keeps the one already recorded
   * (a kill finishing keeps the reason it was ordered with). Returns the updated record, or undefined when the
   * session is unknown or already finished (ended/killed/denied are final).
   */
  setStatus(id: string, status: 'killing' | 'ended' | 'killed', reason: string | null, at: number): Promise<SessionRecord | undefined>;
  /** Last sign of life for live sessions (heartbeats, update hooks), batched. */
  touch(ids: readonly string[], at: number): Promise<void>;
  /** Byte counters reported by servers. */
  addBytes(id: string, bytesIn: number, bytesOut: number): Promise<void>;
  attach(id: string, conn: ConnRef): Promise<void>;
  detach(conn: Pick<ConnRef, 'server' | 'clientId'>): Promise<void>;

  get(id: string): Promise<SessionRecord | undefined>;
  list(filter: SessionFilter, page: Page): Promise<{ items: SessionRecord[]; total: number }>;
  /** Every active/killing session with its connections (registry start-up). */
  listLive(): Promise<LiveSessionRow[]>;
  /** Delete finished sessions (ended, killed, denied) that ended before `before`. Returns how many. */
  pruneHistory(before: number): Promise<number>;

  getAccount(id: string): Promise<AccountRecord | undefined>;
  putAccount(a: AccountRecord): Promise<void>;
  listAccounts(): Promise<AccountRecord[]>;
  getPlan(name: string): Promise<PlanRecord | undefined>;
  putPlan(p: PlanRecord): Promise<void>;
  listPlans(): Promise<PlanRecord[]>;

  putDenied(d: DeniedKey): Promise<void>;
  listDenied(now: number): Promise<DeniedKey[]>;
  /** Clear one key, or all when key is undefined. Returns how many were cleared. */
  clearDenied(key?: string): Promise<number>;
  /** Drop the denied keys that expired by `now` (housekeeping). Returns how many. */
  pruneDenied(now: number): Promise<number>;

  /** Events written in the same transaction as the change they describe, oldest first, after `afterSeq`. */
  listEvents(afterSeq: number, limit: number): Promise<Array<SessionEvent & { seq: number }>>;
}

/** Which statuses are live (hold a slot or a connection). */
export const isLive = (s: Status): boolean => s === 'active' || s === 'killing';
