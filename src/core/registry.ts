/**
 * The registry: the one owner of session state. Protocol code and adapters ask it; none keeps its own copy.
 * It keeps the live picture in memory (LiveIndex), persists every change through the store before
 * acknowledging it, routes kicks to the control port of the server holding the session, and tells
 * subscribers (metrics, reporters, dashboard) about every change.
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log.js';
import type { AdmitOp, AdmitResult, Store } from '../store/store.js';
import { DeniedMemory } from './denied.js';
import { LiveIndex, type LiveSession } from './live-index.js';
import { BUILTIN_SERVER, type ConnRef, type Kind, type ControlPort, type DeniedKey, type SessionEvent, type SessionRecord } from './types.js';

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

/** One stream's live use (GET /v1/streams, the dashboard). */
export interface StreamUse {
  stream: string;
  sessions: number;
  byKind: Record<Kind, number>;
}

/** One account's live use: sessions, and the screens (slots) they hold (SPEC §2 "Screens and slots"). */
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

export class Registry {
  private readonly index: LiveIndex;
  private readonly denied = new DeniedMemory();
  private readonly store: Store;
  private readonly log: Logger;
  private readonly cfg: Config['sessions'];
  readonly now: () => number;
  private readonly ports = new Map<string, ControlPort>();
  private readonly emitter = new EventEmitter();
  private readonly retries = new Map<string, { timer: NodeJS.Timeout; delay: number; since: number }>();
  private lastPrune = 0;
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(o: RegistryOptions) {
    this.store = o.store;
    this.cfg = o.sessions;
    this.log = o.log;
    this.now = o.now ?? Date.now;
    this.index = new LiveIndex(o.sessions.timeoutSeconds * 1000);
    this.emitter.setMaxListeners(100);
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

  onEvent(fn: (e: SessionEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  private emit(type: SessionEvent['type'], session: SessionRecord): void {
    const e: SessionEvent = { type, at: session.endedAt ?? session.startedAt, session };
    try {
      this.emitter.emit('event', e);
    } catch (err) {
      this.log.error({ err }, 'session event subscriber failed');
    }
  }

  setControlPort(server: string, port: ControlPort): void {
    this.ports.set(server, port);
  }

  // ── queries (the maps stay private: callers get views and counts) ───────────────────────

  /** One live session, or undefined when it is not live (ended, killed, unknown). */
  live(id: string): LiveView | undefined {
    const s = this.index.byId.get(id);
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

  /** Streams with live sessions, busiest first, one page of them. */
  async streams(page: { limit: number; offset: number }): Promise<{ items: StreamUse[]; total: number }> {
    const all = this.index.streamUse();
    all.sort((a, b) => b.sessions - a.sessions || a.stream.localeCompare(b.stream));
    return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
  }

  /** One account's live sessions and the screens they hold. */
  async accountUse(account: string): Promise<AccountUse> {
    return { account, ...this.index.accountUse(account) };
  }

  counts(): RegistryCounts {
    return {
      live: this.index.size,
      byKind: { ...this.index.kindCounts },
      killing: this.retries.size,
      streams: this.index.streamCount,
      accounts: this.index.accountCount,
      deniedKeys: this.denied.size,
    };
  }

  // ── admission ──────────────────────────────────────────────────────────────────────────

  isDenied(key: string, now: number): DeniedKey | undefined {
    return this.denied.get(key, now);
  }

  /** The atomic store operation, then the in-memory picture and events follow what the store decided. */
  async admit(op: AdmitOp, attempt = 0): Promise<AdmitResult> {
    const r = await this.store.admit(op);
    if (r.outcome === 'joined') {
      const s = this.index.byId.get(r.session.id);
      if (!s) {
        // It ended (or began to be killed) between the store's answer and now: the key is free again, so ask
        // again rather than bring an ended session back to life. The store runs operations in order, so the
        // retry comes after the end.
        if (attempt < 3) return this.admit(op, attempt + 1);
        throw new Error(`session ${r.session.id} ended while being joined`);
      }
      this.index.touch(s, op.session.startedAt);
      if (op.conn) this.index.attach(s, op.conn);
    } else if (r.outcome === 'admitted') {
      this.index.add(r.session, op.conn ? [op.conn] : []);
      this.emit('session.started', r.session);
      for (const old of r.replaced) {
        const s = this.index.byId.get(old.id);
        if (s) {
          s.status = 'killing';
          this.index.schedule(s);
        }
        this.ban(old, 'E_LIMIT_REACHED', 'replaced by a newer session of the same account');
        this.background(this.kickConns(old.id, 'replaced', old), 'kick of a replaced session');
      }
    }
    return r;
  }

  /** Record a refused attempt; remember its key when asked (repeat attempts are then refused at once). */
  async deny(rec: SessionRecord, remember: boolean, message?: string): Promise<void> {
    if (remember && rec.key) this.ban(rec, rec.reason ?? 'E_DENIED', message ?? rec.reason ?? 'denied');
    this.emit('session.denied', rec);
    await this.store.recordDenied(rec);
  }

  private ban(s: Pick<SessionRecord, 'key' | 'stream' | 'ip'>, code: string, reason: string): void {
    if (this.cfg.deniedMemorySeconds <= 0 || !s.key) return;
    const d: DeniedKey = { key: s.key, code, reason, stream: s.stream, ip: s.ip, until: this.now() + this.cfg.deniedMemorySeconds * 1000 };
    this.denied.put(d);
    void this.store.putDenied(d).catch((err: unknown) => this.log.error({ err }, 'could not persist denied key'));
  }

  /** Denied keys in force, soonest to expire first, one page of them. */
  deniedList(page: { limit: number; offset: number }): { items: DeniedKey[]; total: number } {
    return this.denied.page(this.now(), page);
  }

  async clearDenied(key?: string): Promise<number> {
    this.denied.clear(key);
    return this.store.clearDenied(key);
  }

  // ── connection lifecycle ───────────────────────────────────────────────────────────────

  async attach(id: string, conn: ConnRef): Promise<boolean> {
    const s = this.index.byId.get(id);
    if (!s) return false;
    this.index.attach(s, conn);
    await this.store.attach(id, conn);
    return true;
  }

  /** The server says a connection closed. The session ends when nothing holds it and the timeout passes. */
  async connectionClosed(server: string, clientId: string, bytes?: { bytesIn?: number; bytesOut?: number }): Promise<void> {
    const s = this.index.detach(server, clientId);
    if (!s) return;
    const now = this.now();
    const writes: Promise<unknown>[] = [this.store.detach({ server, clientId })];
    if (bytes && (bytes.bytesIn || bytes.bytesOut)) writes.push(this.store.addBytes(s.id, bytes.bytesIn ?? 0, bytes.bytesOut ?? 0));
    if (s.conns === null) {
      if (s.status === 'killing') {
        await Promise.all(writes);
        await this.finishKill(s.id);
        return;
      }
      this.index.touch(s, now);
      writes.push(this.store.touch([s.id], now));
    }
    await Promise.all(writes);
  }

  /** A connection is still there (update hook). Answers whether its session may go on. */
  async connectionAlive(server: string, clientId: string, bytes?: { bytesIn?: number; bytesOut?: number }): Promise<LiveState> {
    const s = this.index.byConn(server, clientId);
    if (!s) return { live: false, code: 'E_NOT_FOUND', reason: 'unknown session' };
    if (s.status === 'killing') return { live: false, code: 'E_SESSION_ENDED', reason: 'killed' };
    const now = this.now();
    if (s.expiresAt !== null && s.expiresAt <= now) {
      this.background(this.kill(s.id, 'expired', { ban: true }), 'kill of an expired session');
      return { live: false, code: 'E_TOKEN_EXPIRED', reason: 'session lifetime ran out' };
    }
    this.index.touch(s, now);
    await this.store.touch([s.id], now);
    if (bytes && (bytes.bytesIn || bytes.bytesOut)) await this.store.addBytes(s.id, bytes.bytesIn ?? 0, bytes.bytesOut ?? 0);
    return { live: true };
  }

  /** Heartbeat from a client of POST /v1/admission. Returns the live session, or undefined when it is over. */
  async heartbeat(id: string): Promise<LiveView | undefined> {
    const s = this.index.byId.get(id);
    if (!s || s.status !== 'active') return undefined;
    const now = this.now();
    this.index.touch(s, now);
    await this.store.touch([s.id], now);
    return view(s);
  }

  /** The client says it is done (POST /v1/sessions/{id}/end, WebSocket FINISHED). */
  async end(id: string, reason = 'ended'): Promise<SessionRecord | undefined> {
    const s = this.index.byId.get(id);
    if (!s) return undefined;
    this.index.remove(s);
    this.clearRetry(id);
    const rec = await this.store.setStatus(id, 'ended', reason, this.now());
    if (rec) this.emit('session.ended', rec);
    return rec;
  }

  // ── kicks ──────────────────────────────────────────────────────────────────────────────

  /**
   * Kill a session: durable `killing` first, then every connection is dropped through its server's control port.
   * `killed` once all are gone; `killing` while a server could not be reached (retried with backoff).
   * `ban` (default true) puts the key in denied memory so the client cannot come straight back.
   */
  async kill(id: string, reason = 'kicked', opts: { ban?: boolean } = {}): Promise<KillOutcome> {
    const s = this.index.byId.get(id);
    if (!s) return (await this.store.get(id)) ? 'not_live' : 'not_found';
    const rec = await this.store.setStatus(id, 'killing', reason, this.now());
    if (!rec) return 'not_live';
    s.status = 'killing';
    this.index.schedule(s);
    if (opts.ban !== false) this.ban(rec, 'E_DENIED_RECENTLY', `killed: ${reason}`);
    return this.kickConns(id, reason, rec);
  }

  /** `known`: the record when the caller has it already (a retry reads it again: it may have changed). */
  private async kickConns(id: string, reason: string, known?: SessionRecord): Promise<KillOutcome> {
    const s = this.index.byId.get(id);
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
          this.index.detach(c.server, c.clientId);
          await this.store.detach(c);
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
    await this.finishKill(id);
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
    const s = this.index.byId.get(id);
    if (s) this.index.remove(s);
    // null: keep the reason the kill was ordered with (kicked, replaced, expired, an operator's text)
    const rec = await this.store.setStatus(id, 'killed', null, this.now());
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
        writes.push(this.store.setStatus(session.id, 'ended', 'timeout', now).then((rec) => rec && this.emit('session.ended', rec)));
      } else {
        writes.push(this.kill(session.id, 'expired'));
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
  return { id: s.id, server: s.server, kind: s.kind, status: s.status, expiresAt: s.expiresAt, connections: s.connCount };
}
