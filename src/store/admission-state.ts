/**
 * The admission state a store decides on (SPEC §2 "Screens and slots", §3.4): the live session of each key, the
 * screens each account holds, the viewers of each stream, the publisher of each (server, stream). Every store keeps
 * exactly this and runs `decide` inside the same atomic step as its write (a SQLite transaction; one Redis script for
 * a cluster store), so two admissions can never both take the last slot. Pure data structure: no I/O, no clock.
 *
 * Slots. A session holds a slot while it is *connected*: it has a live connection, or it was admitted without one
 * (API sessions, HLS, client WebSockets: they hold their slot until they end, which the registry's timeout decides).
 * A session whose last connection closed lingers (its key still joins it) but holds no slot. Sessions of one account
 * with the same `device` are one screen; without a device each session is its own screen.
 *
 * Kept small (a million live sessions must fit, bench:registry measures it): names that repeat across accounts
 * (streams, servers, devices) are interned, a session without a device needs no set of its own, and viewers per stream are a
 * count.
 */
import type { Kind, SessionRecord } from '../core/types.js';
import { pageOf, type Page } from '../core/page.js';
import type { AdmitLimits, StreamUse } from './store.js';

export interface AdmissionEntry {
  readonly id: string;
  readonly key: string;
  readonly kind: Kind;
  readonly stream: string;
  readonly server: string;
  /** Account whose plan counts this session; null when it does not count (not a viewer, no account, exempt). */
  readonly account: string | null;
  /** The device claim: sessions of one account on one device are one screen. */
  readonly device: string | null;
  /** Admission order: the oldest screen is the one whose session came first. */
  readonly seq: number;
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
  /** Nothing to write: the account's screens, the stream's viewer cap or the busy path is in the way (`ids`: who). */
  | { kind: 'limit'; scope: 'account' | 'stream' | 'busy' | 'connections'; ids: string[] }
  | { kind: 'admit'; replace: string[] };

/** What decide() needs to know of the newcomer. */
export type Candidate = Pick<SessionRecord, 'key' | 'kind' | 'stream' | 'server' | 'device' | 'counted'>;

/** One account's screens: one set per device, and the sessions without a device (each one a screen of its own). */
interface Screens {
  readonly devices: Map<string, Set<AdmissionEntry>>;
  readonly singles: Set<AdmissionEntry>;
}

const pubKey = (server: string, stream: string): string => `${server}\0${stream}`;
const idsOf = (list: Iterable<AdmissionEntry> | undefined): string[] => (list === undefined ? [] : Array.from(list, (e) => e.id));
/** The sessions of `set` that are not being replaced. */
const others = (set: Iterable<AdmissionEntry> | undefined, freed: ReadonlySet<AdmissionEntry> | undefined): AdmissionEntry[] =>
  set === undefined ? [] : freed === undefined ? [...set] : [...set].filter((e) => !freed.has(e));
/** Interned names at most: names beyond it are kept as they come (correct, only less compact). */
const INTERN_MAX = 100_000;

export class AdmissionState {
  private readonly byKey = new Map<string, AdmissionEntry>();
  private readonly byId = new Map<string, AdmissionEntry>();
  private readonly accounts = new Map<string, Screens>();
  /** Viewers holding a slot, per stream. */
  private readonly viewers = new Map<string, number>();
  private readonly publishers = new Map<string, Set<AdmissionEntry>>();
  /** Live sessions per stream and kind, lingering ones included (what GET /v1/streams shows). */
  private readonly streams = new Map<string, Record<Kind, number>>();
  private readonly strings = new Map<string, string>();
  private seq = 0;

  /** Active and killing-in-progress sessions known here (lingering ones included). */
  get size(): number {
    return this.byId.size;
  }

  get streamCount(): number {
    return this.streams.size;
  }

  get accountCount(): number {
    return this.accounts.size;
  }

  /** Sessions per stream and kind, busiest stream first, one page. */
  streamUse(page: Page): { items: StreamUse[]; total: number } {
    const all = [...this.streams].map(([stream, byKind]) => ({
      stream, sessions: byKind.viewer + byKind.input + byKind.output + byKind.unspecified, byKind: { ...byKind },
    }));
    return pageOf(all.sort((a, b) => b.sessions - a.sessions || a.stream.localeCompare(b.stream)), page);
  }

  get(id: string): AdmissionEntry | undefined {
    return this.byId.get(id);
  }

  /**
   * What admitting `s` under `limits` means now, after the sessions in `replace` (a takeover) are gone. Pure.
   * The order of checks is SPEC §3.4's: same key, busy path, stream cap, account screens. `connected`: the newcomer
   * comes with a connection (a join then counts against `limits.maxConnections`).
   */
  decide(s: Candidate, limits: AdmitLimits, replace: readonly string[] = [], connected = false): AdmissionDecision {
    const existing = this.byKey.get(s.key);
    // the hot path (nothing replaced, room left) allocates nothing but its answer: `freed` is made when first needed
    let freed: Set<AdmissionEntry> | undefined;
    for (const id of replace) {
      const e = this.byId.get(id);
      if (e !== undefined && e !== existing) (freed ??= new Set()).add(e);
    }
    if (existing !== undefined && connected && limits.maxConnections !== undefined && existing.conns >= limits.maxConnections) {
      return { kind: 'limit', scope: 'connections', ids: [existing.id] };
    }
    if (existing?.holding) return { kind: 'joined', id: existing.id, replace: idsOf(freed) };

    if (s.kind === 'input' && limits.busy !== null) {
      const pubs = others(this.publishers.get(pubKey(s.server, s.stream)), freed);
      if (pubs.length > 0) {
        if (limits.busy === 'refuse') return { kind: 'limit', scope: 'busy', ids: idsOf(pubs) };
        for (const e of pubs) (freed ??= new Set()).add(e);
      }
    }
    if (s.kind === 'viewer' && limits.streamMaxViewers > 0) {
      let n = this.viewers.get(s.stream) ?? 0;
      if (freed) for (const e of freed) if (e.holding && e.kind === 'viewer' && e.stream === s.stream) n--;
      // the viewers in the way are not listed: on a capped stream they can be many, and none of them is the caller's
      if (n >= limits.streamMaxViewers) return { kind: 'limit', scope: 'stream', ids: [] };
    }
    if (s.counted && limits.account !== null && limits.maxSessions > 0) {
      const a = this.accounts.get(limits.account);
      // sizes first: only an account at its limit has its screens looked at
      if (a !== undefined && a.devices.size + a.singles.size >= limits.maxSessions) {
        const screens = this.screensOf(a, freed);
        const mine = s.device !== null && screens.some((sc) => sc.device === s.device);
        if (!mine && screens.length >= limits.maxSessions) {
          if (limits.onLimit === 'deny') return { kind: 'limit', scope: 'account', ids: screens.flatMap((sc) => idsOf(sc.entries)) };
          // killOldest: the oldest screens give way, every session on them (a screen is what the account bought)
          screens.sort((x, y) => x.seq - y.seq);
          for (const sc of screens.slice(0, screens.length - limits.maxSessions + 1)) for (const e of sc.entries) (freed ??= new Set()).add(e);
        }
      }
    }
    return existing ? { kind: 'rejoined', id: existing.id, replace: idsOf(freed) } : { kind: 'admit', replace: idsOf(freed) };
  }

  /** An account's screens that still have a session once `freed` are gone, each with its age (its first session). */
  private screensOf(a: Screens, freed: ReadonlySet<AdmissionEntry> | undefined): Array<{ device: string | null; seq: number; entries: AdmissionEntry[] }> {
    const out: Array<{ device: string | null; seq: number; entries: AdmissionEntry[] }> = [];
    for (const [device, set] of a.devices) {
      const entries = others(set, freed);
      if (entries.length > 0) out.push({ device, seq: Math.min(...entries.map((e) => e.seq)), entries });
    }
    for (const e of a.singles) if (!freed?.has(e)) out.push({ device: null, seq: e.seq, entries: [e] });
    return out;
  }

  /**
   * A new live session (after decide said admit), or one reloaded at start with the number of its connections: a
   * session with none is taken as connectionless (an API session; or one that had just lost its connection, which
   * then holds a slot until its timeout ends it).
   */
  add(s: Pick<SessionRecord, 'id' | 'key' | 'kind' | 'stream' | 'server' | 'device' | 'account' | 'counted'>, conns: number): AdmissionEntry {
    const e: AdmissionEntry = {
      id: s.id, key: s.key, kind: s.kind, stream: this.intern(s.stream), server: this.intern(s.server),
      account: s.counted ? s.account : null,
      device: s.device === null ? null : this.intern(s.device), seq: ++this.seq,
      conns, connectionless: conns === 0, holding: false,
    };
    this.index(e);
    this.hold(e);
    return e;
  }

  private intern(v: string): string {
    const hit = this.strings.get(v);
    if (hit !== undefined) return hit;
    if (this.strings.size < INTERN_MAX) this.strings.set(v, v);
    return v;
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
    const a = this.accounts.get(account);
    if (!a) return { sessions: 0, screens: 0 };
    let sessions = a.singles.size;
    for (const set of a.devices.values()) sessions += set.size;
    return { sessions, screens: a.singles.size + a.devices.size };
  }

  private hold(e: AdmissionEntry): void {
    if (e.holding) return;
    e.holding = true;
    if (e.account !== null) {
      let a = this.accounts.get(e.account);
      if (!a) this.accounts.set(e.account, (a = { devices: new Map(), singles: new Set() }));
      if (e.device === null) a.singles.add(e);
      else {
        let set = a.devices.get(e.device);
        if (!set) a.devices.set(e.device, (set = new Set()));
        set.add(e);
      }
    }
    if (e.kind === 'viewer') this.viewers.set(e.stream, (this.viewers.get(e.stream) ?? 0) + 1);
    else if (e.kind === 'input') {
      const k = pubKey(e.server, e.stream);
      let set = this.publishers.get(k);
      if (!set) this.publishers.set(k, (set = new Set()));
      set.add(e);
    }
  }

  private release(e: AdmissionEntry): void {
    if (!e.holding) return;
    e.holding = false;
    if (e.account !== null) {
      const a = this.accounts.get(e.account);
      if (a) {
        if (e.device === null) a.singles.delete(e);
        else {
          const set = a.devices.get(e.device);
          set?.delete(e);
          if (set?.size === 0) a.devices.delete(e.device);
        }
        if (a.singles.size === 0 && a.devices.size === 0) this.accounts.delete(e.account);
      }
    }
    if (e.kind === 'viewer') {
      const n = (this.viewers.get(e.stream) ?? 1) - 1;
      if (n > 0) this.viewers.set(e.stream, n);
      else this.viewers.delete(e.stream);
    } else if (e.kind === 'input') {
      const k = pubKey(e.server, e.stream);
      const set = this.publishers.get(k);
      set?.delete(e);
      if (set?.size === 0) this.publishers.delete(k);
    }
  }

  clear(): void {
    this.byKey.clear();
    this.byId.clear();
    this.accounts.clear();
    this.viewers.clear();
    this.publishers.clear();
    this.streams.clear();
    this.strings.clear();
  }
}
