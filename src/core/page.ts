/**
 * One page of a list (SPEC §8: every list is paginated and bounded). The one helper every list uses — the HTTP
 * routes, the stores, denied memory — so paging means the same everywhere.
 */

/** `limit` items from `offset` (both counts of items). */
export interface Page {
  limit: number;
  offset: number;
}

/** The items of `all` at [offset, offset + limit) and how many there are in all; walks `all` once, copies one page. */
export function pageOf<T>(all: Iterable<T>, { limit, offset }: Page): { items: T[]; total: number } {
  const items: T[] = [];
  let total = 0;
  for (const x of all) {
    if (total >= offset && items.length < limit) items.push(x);
    total++;
  }
  return { items, total };
}
