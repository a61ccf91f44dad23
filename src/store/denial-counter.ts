/**
 * Bounded counters of refusals that name nobody (SPEC §3 bounds): a request whose credential could not be verified
 * (a forged or garbled token, a wrong password) is not a session anyone owns, so it is not recorded as a row of its
 * own or remembered by key. It adds one to the counter of its (source, code). At most DENIAL_SOURCES_MAX sources get
 * a counter of their own; later ones share source `*`, so a flood from many addresses is bounded too.
 * Pure: the stores keep their rows in step with it.
 */
import { pageOf, type Page } from '../core/page.js';
import { DENIAL_SOURCES_MAX, type DenialCount } from './store.js';

export class DenialCounter {
  private readonly rows = new Map<string, DenialCount>();
  private readonly sources = new Map<string, number>();

  constructor(private readonly maxSources = DENIAL_SOURCES_MAX) {}

  load(rows: readonly DenialCount[]): void {
    for (const r of rows) this.put({ ...r });
  }

  /** Counts one refusal; returns the row it went to (its source may be `*`). */
  count(source: string, code: string, at: number): DenialCount {
    const src = this.sources.has(source) || this.sources.size < this.maxSources ? source : '*';
    const k = `${src}\0${code}`;
    const row = this.rows.get(k);
    if (row) {
      row.count++;
      row.lastAt = Math.max(row.lastAt, at);
      return row;
    }
    return this.put({ source: src, code, count: 1, firstAt: at, lastAt: at });
  }

  /** Take back one count (a transaction that rolled back). */
  uncount(row: DenialCount): void {
    row.count--;
    if (row.count > 0) return;
    this.rows.delete(`${row.source}\0${row.code}`);
    const n = (this.sources.get(row.source) ?? 1) - 1;
    if (n > 0) this.sources.set(row.source, n);
    else this.sources.delete(row.source);
  }

  private put(r: DenialCount): DenialCount {
    this.rows.set(`${r.source}\0${r.code}`, r);
    this.sources.set(r.source, (this.sources.get(r.source) ?? 0) + 1);
    return r;
  }

  /** Most recent first. */
  page(page: Page): { items: DenialCount[]; total: number } {
    const all = [...this.rows.values()].sort((a, b) => b.lastAt - a.lastAt || a.source.localeCompare(b.source));
    const { items, total } = pageOf(all, page);
    return { items: items.map((r) => ({ ...r })), total };
  }
}
