/**
 * Durability: under admission load, `kill -9` the server, restart it on the same database: every session that
 * got a 200 is still listed as active (0 lost).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signToken } from '../../src/auth/signed-url.js';
import { call, cleanup, freePort, SECRET, spawnUsher, tmpDir } from '../helpers/usher.js';

describe('crash: kill -9 under admission load loses no admitted session', () => {
  const dir = tmpDir('usher-crash-');
  const procs: Array<{ kill(sig: string): boolean }> = [];
  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    cleanup(dir);
  });

  it('every 200 survives', async () => {
    const port = await freePort();
    const env = {
      USHER_HTTP_LISTEN: `127.0.0.1:${port}`,
      USHER_HTTP_ADMIN_TOKEN: 'crash-test-admin-token-000',
      USHER_STORE_PATH: join(dir, 'usher.db'),
      USHER_AUTH_SIGNED_URLS_SECRET: SECRET,
      USHER_RTSP_ENABLED: 'false',
      USHER_SESSIONS_TIMEOUT_SECONDS: '600',
      USHER_LOG_LEVEL: 'warn',
    };
    const first = await spawnUsher(env);
    procs.push(first.proc);

    const admitted = new Set<string>();
    let stop = false;
    let n = 0;
    const worker = async (w: number): Promise<void> => {
      while (!stop) {
        const i = n++;
        const token = signToken(SECRET, { stream: `crash/${i % 50}`, account: `acct${i}`, device: `d${w}`, ttlSeconds: 3600 });
        try {
          const r = await fetch(`${first.url}/v1/admission`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ action: 'play', stream: `crash/${i % 50}`, token }),
            signal: AbortSignal.timeout(5000),
          });
          const body = (await r.json()) as { allow: boolean; sessionId: string };
          if (r.status === 200 && body.allow) admitted.add(body.sessionId);
        } catch {
          // the server died mid-request: no answer, so no promise was made
          if (first.proc.exitCode !== null || first.proc.signalCode !== null) return;
        }
      }
    };
    const workers = Array.from({ length: 32 }, (_, w) => worker(w));
    // let load build up, then kill -9 while requests are in flight
    const deadline = Date.now() + 20_000;
    while (admitted.size < 300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    first.proc.kill('SIGKILL');
    stop = true;
    await Promise.all(workers);
    if (first.proc.exitCode === null && first.proc.signalCode === null) await new Promise((r) => first.proc.once('exit', r));
    expect(admitted.size).toBeGreaterThanOrEqual(300);

    const second = await spawnUsher(env);
    procs.push(second.proc);
    const active = new Set<string>();
    for (let offset = 0; ; offset += 1000) {
      const page = await call(second.url, 'GET', `/v1/sessions?status=active&limit=1000&offset=${offset}`, undefined, env.USHER_HTTP_ADMIN_TOKEN);
      for (const s of page.body.items as Array<{ id: string }>) active.add(s.id);
      if (page.body.items.length < 1000) break;
    }
    const lost = [...admitted].filter((id) => !active.has(id));
    expect(lost).toEqual([]);
    second.proc.kill('SIGTERM');
  });
});
