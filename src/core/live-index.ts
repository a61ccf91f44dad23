/**
 * What the registry keeps in memory of each live session: its connections and its timers (SPEC §2). Nothing here
 * decides admission — the store's admission state does (src/store/admission-state.ts) — so nothing here counts
 * accounts or streams. Expiry is by one-second time buckets, so a sweep touches only what is due instead of scanning
 * everything. Pure data structure: no I/O, no timers. The registry drives it.
 */
import type { ConnRef, Kind, SessionRecord } from './types.js';

/**
 * `ending`: the registry has decided to end it (timeout, an explicit end) and the store is recording that; an
 * admission that joins it meanwhile asks again instead.
 */
export type LiveStatus = 'active' | 'killing' | 'ending';

/** One live session, kept small: a million of these must fit well under a GiB. */
export class LiveSession {
  /** Bucket (epoch second) this session is filed under; -1 = none; REMOVED once out of the index. */
  due = -1;
  /**
   * Connections holding the session; while there is one, no heartbeat is needed. Stored as null, one ConnRef, or
   * an array — most sessions have exactly one, and a one-element array costs more than the session itself.
   */
  conns: ConnRef | ConnRef[] | null = null;
  constructor(
    readonly id: string,
    readonly kind: Kind,
    readonly server: string,
    public lastSeen: number,
    public expiresAt: number | null,
    public status: LiveStatus,
  ) {}

  get connCount(): number {
    return this.conns === null ? 0 : Array.isArray(this.conns) ? this.conns.length : 1;
  }

  connList(): ConnRef[] {
    return this.conns === null ? [] : Array.isArray(this.conns) ? [...this.conns] : [this.conns];
  }
}

export type Expiry = 'timeout' | 'expired';

/** `due` of a session that left the index: no map lookup is needed to know it is gone. */
const REMOVED = -2;

export class LiveIndex {
  private readonly byId = new Map<string, LiveSession>();
  /** server → clientId → session: the connection index, without building a composite key string per connection. */
  private readonly byServer = new Map<string, Map<string, LiveSession>>();
  private readonly buckets = new Map<number, LiveSession[]>();
  /** The first second no sweep has visited yet; -1 before the first sweep. Nothing is filed below it. */
  private next = -1;
  /** Interned strings: server and protocol names repeat across many sessions. */
  private readonly strings = new Map<string, string>();
  readonly kindCounts: Record<Kind, number> = { viewer: 0, input: 0, output: 0, unspecified: 0 };

  constructor(private timeoutMs: number) {}

  get size(): number {
    return this.byId.size;
  }

  get(id: string): LiveSession | undefined {
    return this.byId.get(id);
  }

  /** Every live session (tests and the bench's full-scan baseline; nothing on a hot path walks them). */
  sessions(): IterableIterator<LiveSession> {
    return this.byId.values();
  }

  private intern(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    if (this.strings.size < 10_000) this.strings.set(s, s);
    return s;
  }

  add(r: Pick<SessionRecord, 'id' | 'kind' | 'server' | 'lastSeen' | 'expiresAt' | 'status'>, conns: readonly ConnRef[] = []): LiveSession {
    const s = new LiveSession(r.id, r.kind, this.intern(r.server), r.lastSeen, r.expiresAt, r.status === 'killing' ? 'killing' : 'active');
    this.byId.set(s.id, s);
    this.kindCounts[s.kind]++;
    for (const c of conns) this.attach(s, c);
    this.schedule(s);
    return s;
  }

  remove(s: LiveSession): void {
    if (s.due === REMOVED) return;
    this.byId.delete(s.id);
    for (const c of s.connList()) {
      const m = this.byServer.get(c.server);
      if (m?.get(c.clientId) === s) m.delete(c.clientId);
    }
    this.kindCounts[s.kind]--;
    s.due = REMOVED;
  }

  byConn(server: string, clientId: string): LiveSession | undefined {
    return this.byServer.get(server)?.get(clientId);
  }

  /** Attach a connection; one attached to another session moves. Returns the session it was taken from, if any. */
  attach(s: LiveSession, c: ConnRef): LiveSession | undefined {
    let m = this.byServer.get(c.server);
    if (!m) this.byServer.set(c.server, (m = new Map()));
    const prev = m.get(c.clientId);
    if (prev === s) return undefined;
    if (prev) this.detachFrom(prev, c.server, c.clientId);
    const ref: ConnRef = { server: this.intern(c.server), clientId: c.clientId, protocol: this.intern(c.protocol) };
    if (c.instance !== undefined) ref.instance = c.instance;
    s.conns = s.conns === null ? ref : Array.isArray(s.conns) ? [...s.conns, ref] : [s.conns, ref];
    m.set(c.clientId, s);
    this.schedule(s);
    return prev;
  }

  /** Detach a connection; returns the session it belonged to. */
  detach(server: string, clientId: string): LiveSession | undefined {
    const s = this.byConn(server, clientId);
    if (!s) return undefined;
    this.detachFrom(s, server, clientId);
    return s;
  }

  private detachFrom(s: LiveSession, server: string, clientId: string): void {
    this.byServer.get(server)?.delete(clientId);
    const rest = s.connList().filter((c) => !(c.server === server && c.clientId === clientId));
    s.conns = rest.length === 0 ? null : rest.length === 1 ? rest[0] : rest;
    this.schedule(s);
  }

  /** When this session must be looked at again, in epoch ms; Infinity = never on its own. */
  deadline(s: LiveSession): number {
    let d = Infinity;
    if (s.expiresAt !== null) d = s.expiresAt;
    if (s.status === 'active' && s.conns === null) d = Math.min(d, s.lastSeen + this.timeoutMs);
    return d;
  }

  /** File the session under the bucket of its deadline. Old bucket entries are left behind and skipped lazily. */
  schedule(s: LiveSession): void {
    if (s.due === REMOVED) return;
    const d = this.deadline(s);
    if (d === Infinity) {
      s.due = -1;
      return;
    }
    let b = Math.ceil(d / 1000);
    if (b < this.next) b = this.next; // already past due: the next sweep takes it
    if (s.due === b) return;
    s.due = b;
    let list = this.buckets.get(b);
    if (!list) this.buckets.set(b, (list = []));
    list.push(s);
  }

  touch(s: LiveSession, at: number): void {
    if (at > s.lastSeen) s.lastSeen = at;
    // Held sessions have no timeout deadline; re-filing them would only churn buckets.
    if (s.conns === null || s.expiresAt !== null) this.schedule(s);
  }

  /**
   * Everything due at `now`: sessions whose lifetime ran out or that timed out. Timed-out ones are marked `ending`
   * (the registry records the end, then removes them); the caller records the outcome. Only buckets up to `now`
   * are visited.
   */
  sweep(now: number): Array<{ session: LiveSession; why: Expiry }> {
    const out: Array<{ session: LiveSession; why: Expiry }> = [];
    const upTo = Math.floor(now / 1000);
    // Walk second by second from where the last sweep stopped; on the first sweep, or after a long gap (a restart,
    // a stalled clock), walk the filed buckets instead.
    const due = this.next < 0 || upTo - this.next > this.buckets.size
      ? [...this.buckets.keys()].filter((b) => b <= upTo).sort((a, b) => a - b)
      : Array.from({ length: Math.max(0, upTo - this.next + 1) }, (_, i) => this.next + i);
    this.next = Math.max(this.next, upTo + 1);
    for (const b of due) {
      const list = this.buckets.get(b);
      if (!list) continue;
      this.buckets.delete(b);
      for (const s of list) {
        if (s.due !== b) continue; // moved to another bucket, or gone
        if (s.expiresAt !== null && s.expiresAt <= now) {
          if (s.status === 'active') out.push({ session: s, why: 'expired' });
          else s.due = -1; // a killing session already has its kick under way
          continue;
        }
        if (s.status === 'active' && s.conns === null && s.lastSeen + this.timeoutMs <= now) {
          s.status = 'ending';
          s.due = -1;
          out.push({ session: s, why: 'timeout' });
          continue;
        }
        s.due = -1;
        this.schedule(s);
      }
    }
    return out;
  }

  /** Client ids of the live connections on one server (a snapshot). */
  connIds(server: string): string[] {
    return [...(this.byServer.get(server)?.keys() ?? [])];
  }

  /** Live connections per server. */
  connCounts(): Map<string, number> {
    const out = new Map<string, number>();
    for (const [server, m] of this.byServer) if (m.size) out.set(server, m.size);
    return out;
  }

  /** Number of buckets (for tests and the bench). */
  get bucketCount(): number {
    return this.buckets.size;
  }
}
