/** A map of sets that creates a set on first use and drops it when it empties (the secondary indexes). */
export function addTo<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  let set = m.get(k);
  if (!set) m.set(k, (set = new Set()));
  set.add(v);
}

export function removeFrom<K, V>(m: Map<K, Set<V>>, k: K, v: V): void {
  const set = m.get(k);
  if (!set) return;
  set.delete(v);
  if (set.size === 0) m.delete(k);
}
