/**
 * Bounds on what callers send (issue 7 §5, SPEC §3 bounds), over real HTTP: one viewer's token tried against many
 * streams, hook fields of any size; and the random delay before a refused credential is answered (the pipeline
 * itself, with its delay and randomness injected: no timing in a test).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Credentials } from '../../src/auth/credentials.js';
import { signToken } from '../../src/auth/signed-url.js';
import { loadConfig } from '../../src/config/load.js';
import { AccountsAndPlans } from '../../src/core/accounts-and-plans.js';
import { AdmissionPipeline } from '../../src/core/pipeline.js';
import { Registry } from '../../src/core/registry.js';
import type { AdmissionRequest } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/store/memory.js';
import { call, startUsher, type TestUsher } from '../helpers/usher.js';

describe('bounds on what callers send', () => {
  let u: TestUsher;
  beforeAll(async () => {
    u = await startUsher({ auth: { failureDelayMs: 0 } });
  });
  afterAll(async () => u.stop());

  it('one viewer token tried against 60 streams: refused each time, recorded in full 10 times, then only counted', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'prober' });
    for (let i = 0; i < 60; i++) {
      const r = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: `live/x${i}`, token });
      expect(r.body.code).toBe('E_STREAM_FORBIDDEN');
    }
    expect((await u.api('GET', '/v1/sessions?status=denied&account=prober')).body.total).toBe(10);
    const counted = (await u.api('GET', '/v1/denials')).body.items as Array<{ code: string; count: number }>;
    expect(counted.find((c) => c.code === 'E_STREAM_FORBIDDEN')?.count).toBe(50);
    expect((await u.api('GET', '/v1/denied?limit=1000')).body.total).toBeLessThanOrEqual(60);
  });

  it('a hook field of 60 KB (nginx-rtmp addr) is cut to its bound before it reaches a counter or a row', async () => {
    const addr = '9'.repeat(60_000);
    const res = await fetch(`${u.url}/hooks/nginx-rtmp`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ call: 'play', app: 'live', name: 'big', addr, clientid: '5', tkn: 'forged.token' }).toString(),
    });
    expect(res.status).toBe(403);
    const sources = ((await u.api('GET', '/v1/denials?limit=1000')).body.items as Array<{ source: string }>).map((d) => d.source);
    expect(sources.filter((s) => s.startsWith('nginx-rtmp/9'))).toEqual([`nginx-rtmp/${'9'.repeat(64)}`]);
  });
});

describe('the failure delay (MediaMTX-style), with the clock and the dice in the test\'s hands', () => {
  async function pipeline(failureDelayMs: number, random: () => number) {
    const config = loadConfig({ env: {}, overrides: { auth: { signedUrls: { secret: 'bounds-secret' }, failureDelayMs } } });
    const store = new MemoryStore();
    const accounts = new AccountsAndPlans(store, config.plans);
    await accounts.load();
    const registry = new Registry({ store, sessions: config.sessions, log: silentLogger });
    const waits: number[] = [];
    const p = new AdmissionPipeline({
      config, registry, credentials: new Credentials(config.auth), accounts, store, log: silentLogger, random,
      delay: async (ms) => void waits.push(ms),
    });
    return { p, waits };
  }
  const req = (o: Partial<AdmissionRequest> = {}): AdmissionRequest => ({ server: 'api', protocol: 'hls', action: 'play', stream: 'd/x', ip: '10.0.0.1', ...o });

  it('a refused credential waits floor(random × failureDelayMs); a missing one and an admitted one do not wait', async () => {
    const dice = [0.5, 0.999, 0];
    const { p, waits } = await pipeline(1000, () => dice.shift() ?? 0);
    expect((await p.admit(req({ token: 'forged.token' }))).code).toBe('E_TOKEN_INVALID');
    expect((await p.admit(req({ token: 'other.forged' }))).code).toBe('E_TOKEN_INVALID');
    expect((await p.admit(req())).code).toBe('E_CREDENTIALS_REQUIRED');
    const good = signToken('bounds-secret', { stream: 'd/x', account: 'a', ttlSeconds: 60 });
    expect((await p.admit(req({ token: good }))).allow).toBe(true);
    expect(waits).toEqual([500, 999]);
  });

  it('failureDelayMs 0 never waits', async () => {
    const { p, waits } = await pipeline(0, () => 0.7);
    expect((await p.admit(req({ token: 'forged.token' }))).code).toBe('E_TOKEN_INVALID');
    expect(waits).toEqual([]);
  });
});
