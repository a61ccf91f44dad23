/**
 * The registry: the one owner of live session state in this process. Protocol code and adapters ask it; none keeps
 * its own copy.
 *
 * Who decides what (ARCHITECTURE "State rule"):
 * - the store decides admission: its admission state (same key, busy path, stream cap, account screens) is the
 *   arbiter, so a Redis script can take its place;
 * - the registry owns connections, timers (timeouts, lifetimes, kick retries) and events;
 * - every change runs store → memory → event. A change the registry starts itself (an explicit end, a timeout) first
 *   fences the session in memory (`ending`), so an admission that joins it meanwhile asks again instead of reviving it.
 *
 * Kicks always come through here and go to the control port of the server holding the connection.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AdmitOp, AdmitResult, Store, StreamUse } from '../store/store.js';
import { DeniedMemory } from './denied.js';
import { EventBus, type EventListener } from './event-bus.js';
import { LiveIndex, type LiveSession } from './live-index.js';
import { BUILTIN_SERVER, type ConnRef, type ControlPort, type DeniedKey, type Kind, type SessionEvent, type SessionRecord } from './types.js';

export type KillOutcome = 'killed' | 'killing' | 'not_found' | 'not_live';

export interface LiveState {
  live: boolean;
  code?: string;
  reason?: string;
}

export interface RegistryOptions {
  store: Store;
  sessions: Config['sessions'];
  log: Logger;
  now?: () => number;
  /** This Usher process's id: stamped on every connection it holds (a cluster routes kicks by it). */
  instance?: string;
}

/** What an admission through the registry comes to: the store's answer, or a key banned while it was in flight. */
export type RegistryAdmit = AdmitResult | { outcome: 'denied'; denial: DeniedKey };

export type { StreamUse };

/** One account's live use: sessions holding a slot, and the screens they make (SPEC §2 "Screens and slots"). */
export interface AccountUse {
  account: string;
  sessions: number;
  screens: number;
}

/** Whole-registry figures, O(1): nothing here walks the sessions. */
export interface RegistryCounts {
  live: number;
  byKind: Record<Kind, number>;
  /** Sessions whose kick a server has not confirmed yet. */
  killing: number;
  streams: number;
  accounts: number;
  deniedKeys: number;
}

/** What callers outside the core may see of one live session (a read-only view, not the registry's object). */
export interface LiveView {
  id: string;
  server: string;
  kind: Kind;
  status: 'active' | 'killing';
  expiresAt: number | null;
  connections: number;
}

const RETRY_MIN_MS = 1000;
const RETRY_MAX_MS = 30_000;
/**
 * A kick no server confirms for this long (no API, a server gone for good, MediaMTX without close hooks) is given
 * up: the session is recorded `killed` anyway. Its key stays banned, so the client cannot come back meanwhile.
 */
export const KILL_GIVE_UP_MS = 5 * 60_000;
/** Housekeeping (expired denied keys) runs once a minute. */
const PRUNE_EVERY_MS = 60_000;
/** Connections kicked lately, remembered so the server's close event (with its byte counters) still finds its session. */
const RECENT_KICKS_MAX = 10_000;

export class Registry {
  private readonly index: LiveIndex;
  private readonly denied = new DeniedMemory();
  private readonly store: Store;
  private readonly log: Logger;
  private readonly cfg: Config['sessions'];
  readonly now: () => number;
  readonly instance: string | undefined;
  private readonly ports = new Map<string, ControlPort>();
  private readonly bus: EventBus;
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; delay: number; since: number }>();
  /** `server\0clientId` → session id, insertion-ordered (oldest dropped first). */
  private readonly recentKicks = new Map<string, string>();
  private lastPrune = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(o: RegistryOptions) {
    this.store = o.store;
    this.cfg = o.sessions;
    this.log = o.log;
    this.now = o.now ?? Date.now;
    this.instance = o.instance;
    this.index = new LiveIndex(o.sessions.timeoutSeconds * 1000);
    this.bus = new EventBus(o.log);
  }

  /** Rebuild the live picture from the store. Built-in sessions end: their connections died with the process. */
  async load(): Promise<void> {
    const now = this.now();
    this.denied.load(await this.store.listDenied(now));
    const ending: Promise<void>[] = [];
    for (const { session, conns } of await this.store.listLive()) {
      if (session.server === BUILTIN_SERVER) {
        // not awaited one by one: they all go to the store as one batch
        ending.push(this.store.setStatus(session.id, session.status === 'killing' ? 'killed' : 'ended', 'restart', now).then((rec) => {
          if (rec) this.emit(rec.status === 'killed' ? 'session.killed' : 'session.ended', rec);
        }));
        continue;
      }
      const s = this.index.add(session, conns);
      if (s.status === 'killing') this.scheduleRetry(s.id, session.reason ?? 'kicked');
    }
    await Promise.all(ending);
  }

  start(sweepEveryMs = 1000): void {
    this.sweepTimer ??= setInterval(() => void this.sweep().catch((e: unknown) => this.log.error({ err: e }, 'sweep failed')), sweepEveryMs);
    this.sweepTimer.unref();
  }

  stop(): void {
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
  }

  /** Subscribe to session events; a listener that fails does not stop the others. Returns the unsubscribe function. */
  onEvent(fn: EventListener): () => void {
    return this.bus.on(fn);
  }

  private emit(type: SessionEvent['type'], session: SessionRecord): void {
    this.bus.emit({ type, at: session.endedAt ?? session.startedAt, session });
  }

  setControlPort(server: string, port: ControlPort): void {
    this.ports.set(server, port);
  }

  // ── queries (the maps stay private: callers get views and counts) ───────────────────────

  /** One live session, or undefined when it is not live (ended, killed, unknown). */
  live(id: string): LiveView | undefined {
    const s = this.index.get(id);
    return s && view(s);
  }

  /** The live session a server's connection belongs to. */
  byConn(server: string, clientId: string): LiveView | undefined {
    const s = this.index.byConn(server, clientId);
    return s && view(s);
  }

  /** Client ids of the live connections Usher knows on one server (a snapshot: sync compares it with the server's list). */
  connections(server: string): string[] {
    return this.index.connIds(server);
  }

  /** Live connections per server. */
  connectionCounts(): Map<string, number> {
    return this.index.connCounts();
  }

  /** Streams with live sessions, busiest first, one page of them (from the store's admission state). */
  streams(page: { limit: number; offset: number }): Promise<{ items: StreamUse[]; total: number }> {
    return this.store.streamUse(page);
  }

  /** One account's sessions holding a slot and the screens they make (from the store's admission state). */
  async accountUse(account: string): Promise<AccountUse> {
    return { account, ...(await this.store.accountUse(account)) };
  }

  counts(): RegistryCounts {
    const sum = this.store.summary();
    return {
      live: this.index.size,
      byKind: { ...this.index.kindCounts },
      killing: this.retries.size,
      streams: sum.streams,
      accounts: sum.accounts,
      deniedKeys: this.denied.size,
    };
  }

  // ── admission ──────────────────────────────────────────────────────────────────────────

  isDenied(key: string, now: number): DeniedKey | undefined {
    return this.denied.get(key, now);
  }

  /** The atomic store operation, then the in-memory picture and events follow what the store decided. */
  async admit(op: AdmitOp, attempt = 0): Promise<RegistryAdmit> {
    const conn = op.conn && this.stamp(op.conn);
    const r = await this.store.admit(conn === op.conn ? op : { ...op, conn });
    if (r.outcome === 'joined') {
      const s = this.index.get(r.session.id);
      if (!s || s.status !== 'active') {
        // It is ending (or being killed) between the store's answer and now: ask again rather than bring it back to
        // life. The store runs operations in order, so the retry comes after the end. A key banned meanwhile (a
        // kill) is refused.
        const banned = op.session.key ? this.denied.get(op.session.key, this.now()) : undefined;
        if (banned) return { outcome: 'denied', denial: banned };
        if (attempt < 3) return this.admit(op, attempt + 1);
        throw new Error(`session ${r.session.id} ended while being joined`);
      }
      this.index.touch(s, op.session.startedAt);
      if (conn) this.index.attach(s, conn);
      this.replaced(r.replaced);
    } else if (r.outcome === 'admitted') {
      this.index.add(r.session, conn ? [conn] : []);
      this.emit('session.started', r.session);
      this.replaced(r.replaced);
    }
    return r;
  }

  /** Sessions the store set to `killing` to make room: their connections are dropped. Not banned (SPEC §3.4). */
  private replaced(list: readonly SessionRecord[]): void {
    for (const old of list) {
      const s = this.index.get(old.id);
      if (!s || s.status === 'ending') continue; // being ended already: the end goes on
      s.status = 'killing';
      this.index.schedule(s);
      this.background(this.kickConns(old.id, 'replaced', old), 'kick of a replaced session');
    }
  }

  private stamp(c: ConnRef): ConnRef {
    return this.instance === undefined || c.instance === this.instance ? c : { ...c, instance: this.instance };
  }

  /** Record a refused attempt; remember its key when asked (repeat attempts are then refused at once). */
  async deny(rec: SessionRecord, remember: boolean, message?: string): Promise<void> {
    await this.store.recordDenied(rec);
    if (remember && rec.key) this.ban(rec, rec.reason ?? 'E_DENIED', message ?? rec.reason ?? 'denied');
    this.emit('session.denied', rec);
  }

  /**
   * Count a refusal that names nobody (no verified credential): one counter per (source, code), never a row each.
   * `remember`: the key of a credential that failed verification, kept in the bounded tier of denied memory.
   */
  countDenial(source: string, code: string, remember?: Pick<SessionRecord, 'key' | 'stream' | 'ip'>, reason?: string): Promise<void> {
    if (remember?.key && this.cfg.deniedMemorySeconds > 0) {
      const until = this.now() + this.cfg.deniedMemorySeconds * 1000;
      this.denied.putUnverified({ key: remember.key, code, reason: reason ?? code, stream: remember.stream, ip: remember.ip, until });
    }
    return this.store.countDenial(source, code, this.now());
  }

  private ban(s: Pick<SessionRecord, 'key' | 'stream' | 'ip'>, code: string, reason: string): void {
    if (this.cfg.deniedMemorySeconds <= 0 || !s.key) return;
    const d: DeniedKey = { key: s.key, code, reason, stream: s.stream, ip: s.ip, until: this.now() + this.cfg.deniedMemorySeconds * 1000 };
    this.denied.put(d);
    this.background(this.store.putDenied(d), 'persisting a denied key');
  }

  /** Denied keys in force, soonest to expire first, one page of them. */
  deniedList(page: { limit: number; offset: number }): { items: DeniedKey[]; total: number } {
    return this.denied.page(this.now(), page);
  }

  async clearDenied(key?: string): Promise<number> {
    const stored = await this.store.clearDenied(key);
    return Math.max(stored, this.denied.clear(key));
  }

  // ── connection lifecycle ───────────────────────────────────────────────────────────────

  /**
   * The server says a connection closed. The session frees its slot when it was its last connection and ends at the
   * timeout unless the key comes back (SPEC §2). `endReason`: the client said it is done (RTSP TEARDOWN), or never used
   * its admission (a stream not found): when this was the session's last connection, the session ends at once with
   * that reason — never while another connection still holds it. A close that follows a kick still records its byte
   * counters.
   */
  async connectionClosed(server: string, clientId: string, bytes?: { bytesIn?: number; bytesOut?: number }, endReason?: string): Promise<void> {
    const hasBytes = bytes !== undefined && (bytes.bytesIn || bytes.bytesOut);
    const s = this.index.byConn(server, clientId);
    if (!s) {
      const kicked = this.recentKicks.get(`${server}\0${clientId}`);
      if (kicked !== undefined && hasBytes) await this.store.addBytes(kicked, bytes.bytesIn ?? 0, bytes.bytesOut ?? 0);
      return;
    }
    const now = this.now();
    const writes: Promise<unknown>[] = [this.store.detach({ server, clientId })];
    if (hasBytes) writes.push(this.store.addBytes(s.id, bytes.bytesIn ?? 0, bytes.bytesOut ?? 0));
    const last = s.connCount === 1;
    if (last && s.status === 'active') writes.push(this.store.touch([s.id], now));
    await Promise.all(writes);
    if (this.index.byConn(server, clientId) !== s) return; // moved or gone meanwhile
    this.index.detach(server, clientId);
    if (s.conns !== null) return;
    if (s.status === 'killing') {
      await this.finishKill(s.id);
      return;
    }
    if (endReason !== undefined && s.status === 'active') {
      await this.end(s.id, endReason);
      return;
    }
    this.index.touch(s, now);
  }

  /** A connection is still there (update hook). Answers whether its session may go on. */
  async connectionAlive(server: string, clientId: string, bytes?: { bytesIn?: number; bytesOut?: number }): Promise<LiveState> {
    const s = this.index.byConn(server, clientId);
    if (!s) return { live: false, code: 'E_NOT_FOUND', reason: 'unknown session' };
    if (s.status !== 'active') return { live: false, code: 'E_SESSION_ENDED', reason: s.status === 'killing' ? 'killed' : 'ended' };
    const now = this.now();
    if (s.expiresAt !== null && s.expiresAt <= now) {
      this.background(this.kill(s.id, 'expired', { ban: true }), 'kill of an expired session');
      return { live: false, code: 'E_TOKEN_EXPIRED', reason: 'session lifetime ran out' };
    }
    const writes: Promise<unknown>[] = [this.store.touch([s.id], now)];
    if (bytes && (bytes.bytesIn || bytes.bytesOut)) writes.push(this.store.addBytes(s.id, bytes.bytesIn ?? 0, bytes.bytesOut ?? 0));
    await Promise.all(writes);
    this.index.touch(s, now);
    return { live: true };
  }

  /** Heartbeat from a client of POST /v1/admission. Returns the live session, or undefined when it is over. */
  async heartbeat(id: string): Promise<LiveView | undefined> {
    const s = this.index.get(id);
    if (!s || s.status !== 'active') return undefined;
    const now = this.now();
    await this.store.touch([s.id], now);
    this.index.touch(s, now);
    return view(s);
  }

  /**
   * The client says it is done (POST /v1/sessions/{id}/end, WebSocket FINISHED): ended at once, its slot freed.
   * A session being killed is not ended (the kill goes on: its player may still be playing). A store that cannot
   * record the end leaves the session as it was (the error is thrown).
   */
  async end(id: string, reason = 'ended'): Promise<SessionRecord | undefined> {
    const s = this.index.get(id);
    if (!s || s.status !== 'active') return undefined;
    s.status = 'ending';
    let rec: SessionRecord | undefined;
    try {
      rec = await this.store.setStatus(id, 'ended', reason, this.now());
    } catch (err) {
      this.unfence(s);
      throw err;
    }
    if (!rec) {
      this.unfence(s);
      return undefined;
    }
    this.index.remove(s);
    this.clearRetry(id);
    this.emit('session.ended', rec);
    return rec;
  }

  /** An end that could not be recorded: the session is live again, and its timers run again (a later sweep retries). */
  private unfence(s: LiveSession): void {
    if (s.status !== 'ending') return;
    s.status = 'active';
    s.due = -1;
    this.index.schedule(s);
  }

  // ── kicks ──────────────────────────────────────────────────────────────────────────────

  /**
   * Kill a session: durable `killing` first, then every connection is dropped through its server's control port.
   * `killed` once all are gone; `killing` while a server could not be reached (retried with backoff).
   * `ban` (default true) puts the key in denied memory so the client cannot come straight back.
   */
  async kill(id: string, reason = 'kicked', opts: { ban?: boolean } = {}): Promise<KillOutcome> {
    const s = this.index.get(id);
    if (!s || s.status === 'ending') return (await this.store.get(id)) ? 'not_live' : 'not_found';
    const rec = await this.store.setStatus(id, 'killing', reason, this.now());
    if (!rec) return 'not_live';
    s.status = 'killing';
    this.index.schedule(s);
    if (opts.ban !== false) this.ban(rec, 'E_DENIED_RECENTLY', `killed: ${reason}`);
    return this.kickConns(id, reason, rec);
  }

  /**
   * A client a server holds that has no live session here (sync found it and admission refused it): dropped through
   * the same control port, recorded as a killed session and told to listeners like every other kick.
   */
  async kickConnection(conn: ConnRef, rec: SessionRecord, reason: string): Promise<boolean> {
    const port = this.ports.get(conn.server);
    if (!port) return false;
    try {
      await port.kick(conn, rec, reason);
    } catch (err) {
      this.log.warn({ server: conn.server, clientId: conn.clientId, err: (err as Error).message }, 'could not kick a refused client');
      return false;
    }
    this.remember(conn, rec.id);
    const now = this.now();
    const killed: SessionRecord = { ...rec, status: 'killed', reason, endedAt: now };
    await this.store.recordDenied(killed);
    this.emit('session.killed', killed);
    return true;
  }

  private remember(c: Pick<ConnRef, 'server' | 'clientId'>, id: string): void {
    const k = `${c.server}\0${c.clientId}`;
    this.recentKicks.delete(k);
    this.recentKicks.set(k, id);
    if (this.recentKicks.size > RECENT_KICKS_MAX) this.recentKicks.delete(this.recentKicks.keys().next().value!);
  }

  /** `known`: the record when the caller has it already (a retry reads it again: it may have changed). */
  private async kickConns(id: string, reason: string, known?: SessionRecord): Promise<KillOutcome> {
    const s = this.index.get(id);
    if (!s) return 'killed';
    const rec = known ?? (await this.store.get(id));
    if (!rec) return 'not_found';
    const failures: unknown[] = [];
    await Promise.all(
      s.connList().map(async (c) => {
        const port = this.ports.get(c.server);
        if (!port) return; // nobody to ask (api sessions): marking it killed is all there is
        try {
          await port.kick(c, rec, reason);
          this.remember(c, id);
          await this.store.detach(c);
          this.index.detach(c.server, c.clientId);
        } catch (err) {
          failures.push(err);
          this.log.warn({ session: id, server: c.server, err: (err as Error).message }, 'kick failed; will retry');
        }
      }),
    );
    if (failures.length > 0) {
      this.scheduleRetry(id, reason);
      return 'killing';
    }
    try {
      await this.finishKill(id);
    } catch (err) {
      // the connections are gone but the store could not record it: the retry records it
      this.log.warn({ session: id, err: (err as Error).message }, 'could not record a kill; will retry');
      this.scheduleRetry(id, reason);
      return 'killing';
    }
    return 'killed';
  }

  private scheduleRetry(id: string, reason: string): void {
    const prev = this.retries.get(id);
    const since = prev?.since ?? this.now();
    if (prev) clearTimeout(prev.timer);
    if (this.now() - since >= KILL_GIVE_UP_MS) {
      this.log.warn({ session: id }, 'no server confirmed the kick; recording it as killed');
      this.retries.delete(id);
      this.background(this.finishKill(id), 'giving up a kick');
      return;
    }
    const delay = prev ? Math.min(prev.delay * 2, RETRY_MAX_MS) : RETRY_MIN_MS;
    const timer = setTimeout(() => this.background(this.kickConns(id, reason), 'kick retry'), delay);
    timer.unref();
    this.retries.set(id, { timer, delay, since });
  }

  /** Work nobody awaits still reports its failure (a store error here must not become an unhandled rejection). */
  private background(p: Promise<unknown>, what: string): void {
    p.catch((err: unknown) => this.log.error({ err }, `${what} failed`));
  }

  private clearRetry(id: string): void {
    const r = this.retries.get(id);
    if (r) {
      clearTimeout(r.timer);
      this.retries.delete(id);
    }
  }

  private async finishKill(id: string): Promise<void> {
    this.clearRetry(id);
    // null: keep the reason the kill was ordered with (kicked, replaced, expired, an operator's text)
    const rec = await this.store.setStatus(id, 'killed', null, this.now());
    const s = this.index.get(id);
    if (s) this.index.remove(s);
    if (rec) this.emit('session.killed', rec);
  }

  // ── time ───────────────────────────────────────────────────────────────────────────────

  /** End timed-out sessions and kill the ones whose lifetime ran out. Returns how many were due. */
  async sweep(): Promise<number> {
    const now = this.now();
    const due = this.index.sweep(now);
    const writes: Promise<unknown>[] = [];
    for (const { session, why } of due) {
      if (why === 'timeout') {
        // fenced (`ending`) by the sweep: recorded, then out of memory, then told; a failed write unfences it, so the
        // next sweep tries again (a full disk must not leave it half-ended, blocking its key and its slot)
        writes.push(this.store.setStatus(session.id, 'ended', 'timeout', now).then((rec) => {
          this.index.remove(session);
          if (rec) this.emit('session.ended', rec);
        }, (err: unknown) => {
          this.unfence(session);
          this.log.warn({ session: session.id, err: (err as Error).message }, 'could not record a timeout; will retry');
        }));
      } else {
        // an expiry the store could not record is retried by the next sweep
        writes.push(this.kill(session.id, 'expired').catch((err: unknown) => {
          if (session.status === 'active') {
            session.due = -1;
            this.index.schedule(session);
          }
          this.log.warn({ session: session.id, err: (err as Error).message }, 'could not record an expiry; will retry');
        }));
      }
    }
    if (now - this.lastPrune >= PRUNE_EVERY_MS) {
      this.lastPrune = now;
      this.denied.prune(now);
      writes.push(this.store.pruneDenied(now));
    }
    await Promise.all(writes);
    return due.length;
  }
}

function view(s: LiveSession): LiveView {
  return { id: s.id, server: s.server, kind: s.kind, status: s.status === 'killing' ? 'killing' : 'active', expiresAt: s.expiresAt, connections: s.connCount };
}
