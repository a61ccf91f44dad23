/**
 * The in-memory picture of live sessions: compact objects, secondary indexes (stream, account, connection)
 * and expiry by one-second time buckets, so a sweep touches only what is due instead of scanning everything.
 * Pure data structure: no I/O, no timers. The registry drives it.
 */
import type { ConnRef, Kind, SessionRecord, Status } from './types.js';

export const connKey = (server: string, clientId: string): string => `${server}\0${clientId}`;

/** One live session, kept small: a million of these must fit well under a GiB. */
export class LiveSession {
  /** Bucket (epoch second) this session is filed under; -1 = none. */
  due = -1;
  constructor(
    readonly id: string,
    readonly key: string,
    readonly kind: Kind,
    readonly stream: string,
    readonly account: string | null,
    readonly server: string,
    readonly startedAt: number,
    public lastSeen: number,
    public expiresAt: number | null,
    readonly counted: boolean,
    public status: 'active' | 'killing',
    /** Connections holding the session; while there is one, no heartbeat is needed. */
    public conns: ConnRef[],
  ) {}
}

export type Expiry = 'timeout' | 'expired';

export class LiveIndex {
  readonly byId = new Map<string, LiveSession>();
  readonly byConn = new Map<string, LiveSession>();
  readonly byStream = new Map<string, Set<LiveSession>>();
  readonly byAccount = new Map<string, Set<LiveSession>>();
  private readonly buckets = new Map<number, LiveSession[]>();
  /** The next bucket the sweep will visit; nothing is ever filed below it. */
  private cursor = -1;
  private swept = false;
  /** Interned strings: stream, server and account names repeat across many sessions. */
  private readonly strings = new Map<string, string>();
  readonly kindCounts: Record<Kind, number> = { viewer: 0, input: 0, output: 0, unspecified: 0 };

  constructor(private timeoutMs: number) {}

  get size(): number {
    return this.byId.size;
  }

  setTimeout(ms: number): void {
    this.timeoutMs = ms;
  }

  private intern(s: string): string {
    const hit = this.strings.get(s);
    if (hit !== undefined) return hit;
    if (this.strings.size < 1_000_000) this.strings.set(s, s);
    return s;
  }

  add(r: Pick<SessionRecord, 'id' | 'key' | 'kind' | 'stream' | 'account' | 'server' | 'startedAt' | 'lastSeen' | 'expiresAt' | 'counted'> & { status?: Status }, conns: ConnRef[] = []): LiveSession {
    // streams and servers repeat across sessions (interned); accounts mostly do not
    const s = new LiveSession(r.id, r.key, r.kind, this.intern(r.stream), r.account,
      this.intern(r.server), r.startedAt, r.lastSeen, r.expiresAt, r.counted, r.status === 'killing' ? 'killing' : 'active', []);
    this.byId.set(s.id, s);
    addTo(this.byStream, s.stream, s);
    if (s.account !== null) addTo(this.byAccount, s.account, s);
    this.kindCounts[s.kind]++;
    for (const c of conns) this.attach(s, c);
    this.schedule(s);
    return s;
  }

  remove(s: LiveSession): void {
    if (this.byId.get(s.id) !== s) return;
    this.byId.delete(s.id);
    removeFrom(this.byStream, s.stream, s);
    if (s.account !== null) removeFrom(this.byAccount, s.account, s);
    for (const c of s.conns) {
      const k = connKey(c.server, c.clientId);
      if (this.byConn.get(k) === s) this.byConn.delete(k);
    }
    this.kindCounts[s.kind]--;
    s.due = -1;
  }

  attach(s: LiveSession, c: ConnRef): void {
    const k = connKey(c.server, c.clientId);
    const prev = this.byConn.get(k);
    if (prev === s) return;
    if (prev) this.detachFrom(prev, c.server, c.clientId);
    s.conns.push({ server: this.intern(c.server), clientId: c.clientId, protocol: this.intern(c.protocol) });
    this.byConn.set(k, s);
    this.schedule(s);
  }

  /** Detach a connection; returns the session it belonged to. */
  detach(server: string, clientId: string): LiveSession | undefined {
    const s = this.byConn.get(connKey(server, clientId));
    if (!s) return undefined;
    this.detachFrom(s, server, clientId);
    return s;
  }

  private detachFrom(s: LiveSession, server: string, clientId: string): void {
    this.byConn.delete(connKey(server, clientId));
    s.conns = s.conns.filter((c) => !(c.server === server && c.clientId === clientId));
    this.schedule(s);
  }

  /** When this session must be looked at again, in epoch ms; Infinity = never on its own. */
  deadline(s: LiveSession): number {
    let d = Infinity;
    if (s.expiresAt !== null) d = s.expiresAt;
    if (s.status === 'active' && s.conns.length === 0) d = Math.min(d, s.lastSeen + this.timeoutMs);
    return d;
  }

  /** File the session under the bucket of its deadline. Old bucket entries are left behind and skipped lazily. */
  schedule(s: LiveSession): void {
    const d = this.deadline(s);
    if (d === Infinity) {
      s.due = -1;
      return;
    }
    let b = Math.ceil(d / 1000);
    // Before the first sweep the cursor just follows the earliest filed bucket; after it, nothing is filed behind it.
    if (!this.swept) {
      if (this.cursor < 0 || b < this.cursor) this.cursor = b;
    } else if (b < this.cursor) b = this.cursor;
    if (s.due === b) return;
    s.due = b;
    let list = this.buckets.get(b);
    if (!list) this.buckets.set(b, (list = []));
    list.push(s);
  }

  touch(s: LiveSession, at: number): void {
    if (at > s.lastSeen) s.lastSeen = at;
    // Held sessions have no timeout deadline; re-filing them would only churn buckets.
    if (s.conns.length === 0 || s.expiresAt !== null) this.schedule(s);
  }

  /**
   * Everything due at `now`: sessions whose lifetime ran out or that timed out. They are removed from the
   * index; the caller records the outcome. Only buckets up to `now` are visited.
   */
  sweep(now: number): Array<{ session: LiveSession; why: Expiry }> {
    const out: Array<{ session: LiveSession; why: Expiry }> = [];
    const upTo = Math.floor(now / 1000);
    this.swept = true;
    if (this.cursor < 0) {
      this.cursor = upTo + 1;
      return out;
    }
    // Walk second by second; after a long gap (a restart, a stalled clock) walk the filed buckets instead.
    const due = upTo - this.cursor > this.buckets.size
      ? [...this.buckets.keys()].filter((b) => b <= upTo).sort((a, b) => a - b)
      : Array.from({ length: Math.max(0, upTo - this.cursor + 1) }, (_, i) => this.cursor + i);
    // May move back: a cursor set far ahead (the first session filed had a long lifetime) must not hold back
    // earlier deadlines filed later; nothing is filed below the old cursor, so no bucket is skipped.
    this.cursor = upTo + 1;
    for (const b of due) {
      const list = this.buckets.get(b);
      if (!list) continue;
      this.buckets.delete(b);
      for (const s of list) {
        if (s.due !== b || this.byId.get(s.id) !== s) continue; // moved or gone
        if (s.expiresAt !== null && s.expiresAt <= now) {
          if (s.status === 'active') out.push({ session: s, why: 'expired' });
          else s.due = -1; // a killing session already has its kick under way
          continue;
        }
        if (s.status === 'active' && s.conns.length === 0 && s.lastSeen + this.timeoutMs <= now) {
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

  /** Number of buckets (for tests and the bench). */
  get bucketCount(): number {
    return this.buckets.size;
  }
}

function addTo<K>(m: Map<K, Set<LiveSession>>, k: K, s: LiveSession): void {
  let set = m.get(k);
  if (!set) m.set(k, (set = new Set()));
  set.add(s);
}

function removeFrom<K>(m: Map<K, Set<LiveSession>>, k: K, s: LiveSession): void {
  const set = m.get(k);
  if (!set) return;
  set.delete(s);
  if (set.size === 0) m.delete(k);
}
