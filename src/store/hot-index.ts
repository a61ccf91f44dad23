/**
 * The admission state a store checks atomically: active sessions by key, counted sessions per account (oldest
 * first), viewers per stream. Kept in memory next to the durable rows so the limit check costs no random index
 * pages on disk (those page writes, not the CPU, were what made commits expensive). Shared by the SQLite and
 * memory stores so both decide exactly alike; a Redis store keeps the same three structures in Redis.
 */
import { addTo, removeFrom } from '../core/set-map.js';
import type { SessionRecord } from '../core/types.js';
import type { AdmitLimits } from './store.js';

export interface HotEntry {
  readonly id: string;
  readonly key: string;
  readonly account: string | null;
  readonly counted: boolean;
  readonly viewer: boolean;
  readonly stream: string;
}

export type HotDecision =
  | { kind: 'joined'; id: string }
  | { kind: 'limit'; scope: 'account' | 'stream'; ids: string[] }
  | { kind: 'admit'; replace: string[] };

export class HotIndex {
  private readonly byKey = new Map<string, HotEntry>();
  private readonly byId = new Map<string, HotEntry>();
  /** Counted active sessions per account, in admission order (a Set keeps insertion order, deletes in O(1)). */
  private readonly accounts = new Map<string, Set<HotEntry>>();
  private readonly viewers = new Map<string, Set<HotEntry>>();

  get size(): number {
    return this.byId.size;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** What admitting `s` under `limits` means now. Pure: changes nothing. */
  decide(s: Pick<SessionRecord, 'key' | 'kind' | 'stream' | 'counted'>, limits: AdmitLimits): HotDecision {
    const existing = this.byKey.get(s.key);
    if (existing) return { kind: 'joined', id: existing.id };
    if (limits.streamMaxViewers > 0 && s.kind === 'viewer') {
      const v = this.viewers.get(s.stream);
      if (v && v.size >= limits.streamMaxViewers) return { kind: 'limit', scope: 'stream', ids: [...v].map((e) => e.id) };
    }
    if (s.counted && limits.account !== null && limits.maxSessions > 0) {
      const mine = this.accounts.get(limits.account);
      if (mine && mine.size >= limits.maxSessions) {
        const ids = [...mine].map((e) => e.id);
        if (limits.onLimit === 'deny') return { kind: 'limit', scope: 'account', ids };
        return { kind: 'admit', replace: ids.slice(0, mine.size - limits.maxSessions + 1) };
      }
    }
    return { kind: 'admit', replace: [] };
  }

  add(s: Pick<SessionRecord, 'id' | 'key' | 'account' | 'counted' | 'kind' | 'stream'>): HotEntry {
    const e: HotEntry = { id: s.id, key: s.key, account: s.account, counted: s.counted, viewer: s.kind === 'viewer', stream: s.stream };
    this.byKey.set(e.key, e);
    this.byId.set(e.id, e);
    if (e.counted && e.account !== null) addTo(this.accounts, e.account, e);
    if (e.viewer) addTo(this.viewers, e.stream, e);
    return e;
  }

  /** The session stops being active (killing, ended, killed). Returns its entry, for undo. */
  remove(id: string): HotEntry | undefined {
    const e = this.byId.get(id);
    if (!e) return undefined;
    this.byId.delete(id);
    if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    if (e.counted && e.account !== null) removeFrom(this.accounts, e.account, e);
    if (e.viewer) removeFrom(this.viewers, e.stream, e);
    return e;
  }

  /** Put back an entry removed in a transaction that rolled back. */
  restore(e: HotEntry): void {
    this.byKey.set(e.key, e);
    this.byId.set(e.id, e);
    if (e.counted && e.account !== null) addTo(this.accounts, e.account, e);
    if (e.viewer) addTo(this.viewers, e.stream, e);
  }

  clear(): void {
    this.byKey.clear();
    this.byId.clear();
    this.accounts.clear();
    this.viewers.clear();
  }
}
