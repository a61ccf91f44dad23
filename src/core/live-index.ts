/**
 * The in-memory picture of live sessions: compact objects, secondary indexes (stream, account, server →
 * connection) and expiry by one-second time buckets, so a sweep touches only what is due instead of scanning
 * everything. Pure data structure: no I/O, no timers. The registry drives it.
 */
import { addTo, removeFrom } from './set-map.js';
import type { ConnRef, Kind, SessionRecord, Status } from './types.js';

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
    readonly stream: string,
    readonly account: string | null,
    readonly server: string,
    readonly startedAt: number,
    public lastSeen: number,
    public expiresAt: number | null,
    readonly counted: boolean,
    public status: 'active' | 'killing',
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
  readonly byId = new Map<string, LiveSession>();
  readonly byStream = new Map<string, Set<LiveSession>>();
  readonly byAccount = new Map<string, Set<LiveSession>>();
  /** server → clientId → session: the connection index, without building a composite key string per connection. */
  readonly byServer = new Map<string, Map<string, LiveSession>>();
  private readonly buckets = new Map<number, LiveSession[]>();
  /** The first second no sweep has visited yet; -1 before the first sweep. Nothing is filed below it. */
  private next = -1;
  /** Interned strings: stream, server and protocol names repeat across many sessions. */
  private readonly strings = new Map<string, string>();
  readonly kindCounts: Record<Kind, number> = { viewer: 0, input: 0, output: 0, unspecified: 0 };

  constructor(private timeoutMs: number) {}

  get size(): number {
    return this.byId.size;
  }

  private intern(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    if (this.strings.size < 100_000) this.strings.set(s, s);
    return s;
  }

  add(
    r: Pick<SessionRecord, 'id' | 'kind' | 'stream' | 'account' | 'server' | 'startedAt' | 'lastSeen' | 'expiresAt' | 'counted'> & { status?: Status },
    conns: readonly ConnRef[] = [],
  ): LiveSession {
    const s = new LiveSession(r.id, r.kind, this.intern(r.stream), r.account, this.intern(r.server), r.startedAt, r.lastSeen,
      r.expiresAt, r.counted, r.status === 'killing' ? 'killing' : 'active');
    this.byId.set(s.id, s);
    addTo(this.byStream, s.stream, s);
    if (s.account !== null) addTo(this.byAccount, s.account, s);
    this.kindCounts[s.kind]++;
    for (const c of conns) this.attach(s, c);
    this.schedule(s);
    return s;
  }

  remove(s: LiveSession): void {
    if (s.due === REMOVED) return;
    this.byId.delete(s.id);
    removeFrom(this.byStream, s.stream, s);
    if (s.account !== null) removeFrom(this.byAccount, s.account, s);
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

  attach(s: LiveSession, c: ConnRef): void {
    let m = this.byServer.get(c.server);
    if (!m) this.byServer.set(c.server, (m = new Map()));
    const prev = m.get(c.clientId);
    if (prev === s) return;
    if (prev) this.detachFrom(prev, c.server, c.clientId);
    const ref: ConnRef = { server: this.intern(c.server), clientId: c.clientId, protocol: this.intern(c.protocol) };
    s.conns = s.conns === null ? ref : Array.isArray(s.conns) ? [...s.conns, ref] : [s.conns, ref];
    m.set(c.clientId, s);
    this.schedule(s);
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
   * Everything due at `now`: sessions whose lifetime ran out or that timed out. Timed-out ones are removed from
   * the index; the caller records the outcome. Only buckets up to `now` are visited.
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
          this.remove(s);
          out.push({ session: s, why: 'timeout' });
          continue;
        }
        s.due = -1;
        this.schedule(s);
      }
    }
    return out;
  }

  connIds(server: string): string[] {
    return [...(this.byServer.get(server)?.keys() ?? [])];
  }

  get streamCount(): number {
    return this.byStream.size;
  }

  get accountCount(): number {
    return this.byAccount.size;
  }

  streamUse(): Array<{ stream: string; sessions: number; byKind: Record<Kind, number> }> {
    return [...this.byStream].map(([stream, set]) => {
      const byKind: Record<Kind, number> = { viewer: 0, input: 0, output: 0, unspecified: 0 };
      for (const s of set) byKind[s.kind]++;
      return { stream, sessions: set.size, byKind };
    });
  }

  accountUse(account: string): { sessions: number; screens: number } {
    const set = this.byAccount.get(account);
    let screens = 0;
    if (set) for (const s of set) if (s.counted) screens++;
    return { sessions: set?.size ?? 0, screens };
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
