/**
 * Denied memory (SPEC §2/§3.1): a session key that was refused, or whose session was killed, is refused at once
 * for `deniedMemorySeconds` (MistServer keeps a denied session for 10 minutes). Kept in memory for the hot path,
 * written through to the store so it survives a restart and the operator can list and clear it.
 */
import type { DeniedKey } from './types.js';

export class DeniedMemory {
  private readonly keys = new Map<string, DeniedKey>();

  get size(): number {
    return this.keys.size;
  }

  load(list: readonly DeniedKey[]): void {
    for (const d of list) this.keys.set(d.key, d);
  }

  /** The active denial for this key, if any (expired ones are dropped on the way). */
  get(key: string, now: number): DeniedKey | undefined {
    const d = this.keys.get(key);
    if (!d) return undefined;
    if (d.until <= now) {
      this.keys.delete(key);
      return undefined;
    }
    return d;
  }

  /** Keys in force at `now`, soonest to expire first (they are kept in that order when denials share one duration). */
  page(now: number, page: { limit: number; offset: number }): { items: DeniedKey[]; total: number } {
    const live = [...this.keys.values()].filter((d) => d.until > now).sort((a, b) => a.until - b.until);
    return { items: live.slice(page.offset, page.offset + page.limit), total: live.length };
  }

  put(d: DeniedKey): void {
    this.keys.set(d.key, d);
  }

  clear(key?: string): void {
    if (key === undefined) this.keys.clear();
    else this.keys.delete(key);
  }

  prune(now: number): void {
    for (const [k, d] of this.keys) if (d.until <= now) this.keys.delete(k);
  }
}
