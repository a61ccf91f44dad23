/**
 * The admission state a store decides on (SPEC §2 "Screens and slots", §3.4): the live session of each key, the
 * screens each account holds, the viewers of each stream, the publisher of each (server, stream). Every store keeps
 * exactly this and runs `decide` inside the same atomic step as its write (a SQLite transaction; one Redis script for
 * a cluster store), so two admissions can never both take the last slot. Pure data structure: no I/O, no clock.
 *
 * Slots. A session holds a slot while it is *connected*: it has a live connection, or it was admitted without one
 * (API sessions, HLS, client WebSockets: they hold their slot until they end, which the registry's timeout decides).
 * A session whose last connection closed lingers (its key still joins it) but holds no slot. Sessions of one account
 * with the same `device` are one screen; without a device each session key is its own screen.
 */
import type { Kind, SessionRecord } from '../core/types.js';
import { addTo, removeFrom } from '../core/set-map.js';
import type { AdmitLimits } from './store.js';

export interface AdmissionEntry {
  readonly id: string;
  readonly key: string;
  readonly kind: Kind;
  readonly stream: string;
  readonly server: string;
  /** Account whose plan counts this session; null when it does not count (not a viewer, no account, exempt). */
  readonly account: string | null;
  /** The screen it shows on, within its account: `d:<device>` or `k:<session key>`. */
  readonly screen: string;
  /** Connections attached now. */
  conns: number;
  /** Admitted (or last joined) without a connection: it holds its slot until it ends. */
  connectionless: boolean;
  /** In the counting indexes (holds a slot). */
  holding: boolean;
}

export type AdmissionDecision =
  /** A connected session with this key exists: join it; nothing is counted twice. */
  | { kind: 'joined'; id: string; replace: string[] }
  /** A lingering session with this key comes back: it takes a slot again (`replace` made room). */
  | { kind: 'rejoined'; id: string; replace: string[] }
  | { kind: 'limit'; scope: 'account' | 'stream' | 'busy'; ids: string[] }
  | { kind: 'admit'; replace: string[] };

/** What decide() needs to know of the newcomer. */
export type Candidate = Pick<SessionRecord, 'key' | 'kind' | 'stream' | 'server' | 'device' | 'counted'>;

const screenOf = (s: Pick<SessionRecord, 'device' | 'key'>): string => (s.device ? `d:${s.device}` : `k:${s.key}`);
const pubKey = (server: string, stream: string): string => `${server}\0${stream}`;

export class AdmissionState {
  private readonly byKey = new Map<string, AdmissionEntry>();
  private readonly byId = new Map<string, AdmissionEntry>();
  /** account → screen → sessions on it; Map order is the order screens took their slot (oldest first). */
  private readonly accounts = new Map<string, Map<string, Set<AdmissionEntry>>>();
  private readonly viewers = new Map<string, Set<AdmissionEntry>>();
  private readonly publishers = new Map<string, Set<AdmissionEntry>>();
  /** Live sessions per stream and kind, lingering ones included (what GET /v1/streams shows). */
  private readonly streams = new Map<string, Record<Kind, number>>();

  /** Active and killing-in-progress sessions known here (lingering ones included). */
  get size(): number {
    return this.byId.size;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  /** Sessions per stream and kind. */
  streamUse(): Array<{ stream: string; sessions: number; byKind: Record<Kind, number> }> {
    return [...this.streams].map(([stream, byKind]) => ({
      stream, sessions: byKind.viewer + byKind.input + byKind.output + byKind.unspecified, byKind: { ...byKind },
    }));
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  get(id: string): AdmissionEntry | undefined {
    return this.byId.get(id);
  }

  /**
   * What admitting `s` under `limits` means now, after the sessions in `replace` (a takeover) are gone. Pure.
   * The order of checks is SPEC §3.4's: same key, busy path, stream cap, account screens.
   */
  decide(s: Candidate, limits: AdmitLimits, replace: readonly string[] = []): AdmissionDecision {
    const existing = this.byKey.get(s.key);
    const freed = new Set<string>();
    for (const id of replace) if (this.byId.has(id) && id !== existing?.id) freed.add(id);
    if (existing?.holding) return { kind: 'joined', id: existing.id, replace: [...freed] };
    // Sets are walked only when something is being replaced; the common case compares sizes.
    const others = (set: Set<AdmissionEntry> | undefined): AdmissionEntry[] =>
      set === undefined ? [] : freed.size === 0 ? [...set] : [...set].filter((e) => !freed.has(e.id));
    const count = (set: Set<AdmissionEntry> | undefined): number => (freed.size === 0 ? set?.size ?? 0 : others(set).length);

    if (s.kind === 'input' && limits.busy !== null) {
      const pubs = others(this.publishers.get(pubKey(s.server, s.stream)));
      if (pubs.length > 0) {
        if (limits.busy === 'refuse') return { kind: 'limit', scope: 'busy', ids: pubs.map((e) => e.id) };
        for (const e of pubs) freed.add(e.id);
      }
    }
    if (s.kind === 'viewer' && limits.streamMaxViewers > 0) {
      const v = this.viewers.get(s.stream);
      if (count(v) >= limits.streamMaxViewers) return { kind: 'limit', scope: 'stream', ids: others(v).map((e) => e.id) };
    }
    if (s.counted && limits.account !== null && limits.maxSessions > 0) {
      const screens = this.accounts.get(limits.account);
      if (screens !== undefined && screens.size >= limits.maxSessions) {
        const mine = screenOf(s);
        const live = [...screens].filter(([, set]) => count(set) > 0);
        if (!live.some(([screen]) => screen === mine) && live.length >= limits.maxSessions) {
          if (limits.onLimit === 'deny') return { kind: 'limit', scope: 'account', ids: live.flatMap(([, set]) => others(set).map((e) => e.id)) };
          // killOldest: the oldest screens give way, every session on them (a screen is what the account bought)
          for (const [, set] of live.slice(0, live.length - limits.maxSessions + 1)) for (const e of others(set)) freed.add(e.id);
        }
      }
    }
    return existing ? { kind: 'rejoined', id: existing.id, replace: [...freed] } : { kind: 'admit', replace: [...freed] };
  }

  /**
   * A new live session (after decide said admit), or one reloaded at start with the number of its connections: a
   * session with none is taken as connectionless (an API session; or one that had just lost its connection, which
   * then holds a slot until its timeout ends it).
   */
  add(s: Pick<SessionRecord, 'id' | 'key' | 'kind' | 'stream' | 'server' | 'device' | 'account' | 'counted'>, conns: number): AdmissionEntry {
    const e: AdmissionEntry = {
      id: s.id, key: s.key, kind: s.kind, stream: s.stream, server: s.server,
      account: s.counted ? s.account : null, screen: screenOf(s),
      conns, connectionless: conns === 0, holding: false,
    };
    this.index(e);
    this.hold(e);
    return e;
  }

  private index(e: AdmissionEntry): void {
    this.byKey.set(e.key, e);
    this.byId.set(e.id, e);
    let k = this.streams.get(e.stream);
    if (!k) this.streams.set(e.stream, (k = { viewer: 0, input: 0, output: 0, unspecified: 0 }));
    k[e.kind]++;
  }

  /** The session is over (ended, killed) or being killed: it leaves every index. Returns its entry, for undo. */
  remove(id: string): AdmissionEntry | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    this.release(e);
    this.byId.delete(id);
    if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    const k = this.streams.get(e.stream);
    if (k && --k[e.kind] === 0 && k.viewer + k.input + k.output + k.unspecified === 0) this.streams.delete(e.stream);
    return e;
  }

  /** Put back an entry removed in a transaction that rolled back. */
  restore(e: AdmissionEntry): void {
    this.index(e);
    e.holding = false;
    if (e.connectionless || e.conns > 0) this.hold(e);
  }

  /** A connection joins the session (an admission that joined, or a restart reloading it). */
  attach(id: string): void {
    const e = this.byId.get(id);
    if (!e) return;
    e.conns++;
    this.hold(e);
  }

  /**
   * Joined without a connection (an API call for a key held elsewhere): it holds its slot until it ends. `false`
   * undoes it (a rolled-back transaction).
   */
  setConnectionless(id: string, connectionless: boolean): void {
    const e = this.byId.get(id);
    if (!e) return;
    e.connectionless = connectionless;
    if (connectionless || e.conns > 0) this.hold(e);
    else this.release(e);
  }

  /** A connection left; the last one leaving frees the slot (the session lingers until its timeout). */
  detach(id: string): void {
    const e = this.byId.get(id);
    if (!e || e.conns === 0) return;
    e.conns--;
    if (e.conns === 0 && !e.connectionless) this.release(e);
  }

  /** One account's use: sessions holding a slot and the screens they make. */
  accountUse(account: string): { sessions: number; screens: number } {
    const screens = this.accounts.get(account);
    let sessions = 0;
    if (screens) for (const set of screens.values()) sessions += set.size;
    return { sessions, screens: screens?.size ?? 0 };
  }

  private hold(e: AdmissionEntry): void {
    if (e.holding) return;
    e.holding = true;
    if (e.account !== null) {
      let screens = this.accounts.get(e.account);
      if (!screens) this.accounts.set(e.account, (screens = new Map()));
      let set = screens.get(e.screen);
      if (!set) screens.set(e.screen, (set = new Set()));
      set.add(e);
    }
    if (e.kind === 'viewer') addTo(this.viewers, e.stream, e);
    else if (e.kind === 'input') addTo(this.publishers, pubKey(e.server, e.stream), e);
  }

  private release(e: AdmissionEntry): void {
    if (!e.holding) return;
    e.holding = false;
    if (e.account !== null) {
      const screens = this.accounts.get(e.account);
      const set = screens?.get(e.screen);
      if (set) {
        set.delete(e);
        if (set.size === 0) screens!.delete(e.screen);
        if (screens!.size === 0) this.accounts.delete(e.account);
      }
    }
    if (e.kind === 'viewer') removeFrom(this.viewers, e.stream, e);
    else if (e.kind === 'input') removeFrom(this.publishers, pubKey(e.server, e.stream), e);
  }

  clear(): void {
    this.byKey.clear();
    this.byId.clear();
    this.accounts.clear();
    this.viewers.clear();
    this.publishers.clear();
    this.streams.clear();
  }
}
