import { MemoryStore } from '../../src/store/memory.js';
import { storeSuite } from './suite.js';

storeSuite('memory', async () => ({ store: new MemoryStore() }));
