/**
 * Picks the store implementation the config asks for.
 */
import type { Config } from '../config/schema.js';
import { UsherError } from '../errors.js';
import { MemoryStore } from './memory.js';
import { SqliteStore } from './sqlite.js';
import type { Store } from './store.js';

export function createStore(config: Config): Store {
  switch (config.store.driver) {
    case 'sqlite':
      return new SqliteStore({ path: config.store.path, synchronous: config.store.synchronous });
    case 'memory':
      return new MemoryStore();
    case 'cluster':
      throw new UsherError('E_CONFIG_INVALID', 'store.driver "cluster" is not available in this version', 'store.driver');
  }
}
