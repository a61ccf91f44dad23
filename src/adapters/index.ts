/**
 * Every adapter, by server type. One file per media server.
 */
import type { ServerType } from '../config/schema.js';
import type { Adapter } from './types.js';

export function allAdapters(): Map<ServerType, Adapter> {
  const list: Adapter[] = [];
  return new Map(list.map((a) => [a.type, a]));
}
