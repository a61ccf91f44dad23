/**
 * Denied memory (SPEC §2/§3.1): a session key that was refused, or whose session was killed, is refused at once
 * for `deniedMemorySeconds` (MistServer keeps a denied session for 10 minutes).
 *
 * Two tiers. Keys of a verified credential (a kick, a forbidden stream, a disabled account) are written through to the
 * store, so they survive a restart and the operator can list and clear them. Keys of a credential that failed
 * verification (a forged token, a wrong password) name nobody: they are kept here only, at most UNVERIFIED_MAX of
 * them, oldest dropped first — an anonymous flood cannot grow memory or the database (SPEC §3 bounds).
 */
import { pageOf, type Page } from './page.js';
import type { DeniedKey } from './types.js';

/** Keys of failed credentials remembered at once; beyond it the oldest are forgotten (they fail verification again). */
export const UNVERIFIED_MAX = 10_000;

export class DeniedMemory {
  private readonly keys = new Map<string, DeniedKey>();
  /** Insertion-ordered: the first entry is the oldest. */
  private readonly unverified = new Map<string, DeniedKey>();

  constructor(private readonly unverifiedMax = UNVERIFIED_MAX) {}

  get size(): number {
    return this.keys.size + this.unverified.size;
  }

  load(list: readonly DeniedKey[]): void {
    for (const d of list) this.keys.set(d.key, d);
  }

  /** The active denial for this key, if any (expired ones are dropped on the way). */
  get(key: string, now: number): DeniedKey | undefined {
    const d = this.keys.get(key) ?? this.unverified.get(key);
    if (!d) return undefined;
    if (d.until <= now) {
      this.keys.delete(key);
      this.unverified.delete(key);
      return undefined;
    }
    return d;
  }

  put(d: DeniedKey): void {
    this.unverified.delete(d.key);
    this.keys.set(d.key, d);
  }

  /** A key whose credential failed verification: remembered in the bounded tier only. */
  putUnverified(d: DeniedKey): void {
    if (this.keys.has(d.key)) return;
    this.unverified.delete(d.key);
    this.unverified.set(d.key, d);
    if (this.unverified.size > this.unverifiedMax) this.unverified.delete(this.unverified.keys().next().value!);
  }

  /** Keys in force at `now`, soonest to expire first, one page of them (both tiers). */
  page(now: number, page: Page): { items: DeniedKey[]; total: number } {
    const live = [...this.keys.values(), ...this.unverified.values()].filter((d) => d.until > now).sort((a, b) => a.until - b.until);
    return pageOf(live, page);
  }

  /** Forget one key, or all; returns how many were in force here. */
  clear(key?: string): number {
    if (key === undefined) {
      const n = this.size;
      this.keys.clear();
      this.unverified.clear();
      return n;
    }
    return Number(this.keys.delete(key)) + Number(this.unverified.delete(key));
  }

  prune(now: number): void {
    for (const [k, d] of this.keys) if (d.until <= now) this.keys.delete(k);
    for (const [k, d] of this.unverified) if (d.until <= now) this.unverified.delete(k);
  }
}
