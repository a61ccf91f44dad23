/**
 * The admission pipeline called directly, without HTTP: where an admission's CPU goes (run by bench/admission.ts).
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Credentials } from '../../src/auth/credentials.js';
import { signToken } from '../../src/auth/signed-url.js';
import { loadConfig } from '../../src/config/load.js';
import { AccountsAndPlans } from '../../src/core/accounts-and-plans.js';
import { AdmissionPipeline } from '../../src/core/pipeline.js';
import { Registry } from '../../src/core/registry.js';
import type { AdmissionRequest } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/store/memory.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';

const SECRET = 'bench-secret';

export async function directCost(store: Store, n = 60_000, concurrency = 256): Promise<{ cpuUs: number; wallUs: number }> {
  const config = loadConfig({ env: {}, overrides: { auth: { signedUrls: { secret: SECRET } }, plans: { default: {}, std: { maxSessions: 3 } } } });
  await store.init();
  const accounts = new AccountsAndPlans(store, config.plans);
  await accounts.load();
  const registry = new Registry({ store, sessions: config.sessions, log: silentLogger });
  const pipeline = new AdmissionPipeline({ config, registry, credentials: new Credentials(config.auth), accounts, store, log: silentLogger });
  const reqs: AdmissionRequest[] = Array.from({ length: n }, (_, i) => ({
    server: 'api', protocol: 'hls', action: 'play', stream: `bench/${i % 100}`, ip: '127.0.0.1',
    token: signToken(SECRET, { stream: `bench/${i % 100}`, account: `acct${i >> 1}`, plan: 'std', device: `d${i}`, ttlSeconds: 3600 }),
  }));
  const warm = Math.floor(n / 10);
  for (let i = 0; i < warm; i++) await pipeline.admit(reqs[i]);
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let k = warm; k < n; ) {
    const batch: Promise<unknown>[] = [];
    for (let j = 0; j < concurrency && k < n; j++) batch.push(pipeline.admit(reqs[k++]));
    await Promise.all(batch);
  }
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  await store.close();
  return { cpuUs: (c.user + c.system) / (n - warm), wallUs: (wall * 1000) / (n - warm) };
}

export async function directBreakdown(dir: string): Promise<{ memory: number; sqlite: number }> {
  const memory = (await directCost(new MemoryStore())).cpuUs;
  const path = join(dir, 'direct.db');
  rmSync(path, { force: true });
  const sqlite = (await directCost(new SqliteStore({ path, synchronous: 'full' }))).cpuUs;
  return { memory, sqlite };
}
