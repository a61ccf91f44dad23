import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySigned } from '../../src/auth/signed-url.js';
import { ADMIN_TOKEN, CLI, SECRET, startUsher, tmpDir, type TestUsher } from '../helpers/usher.js';

const run = promisify(execFile);

async function usher(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, cwd, timeout: 20_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

describe('usher CLI (built binary, real server)', () => {
  let u: TestUsher;
  let env: Record<string, string>;
  beforeAll(async () => {
    u = await startUsher();
    env = { USHER_HTTP_LISTEN: u.url.replace('http://', ''), USHER_HTTP_ADMIN_TOKEN: ADMIN_TOKEN, USHER_AUTH_SIGNED_URLS_SECRET: SECRET };
  });
  afterAll(async () => u.stop());

  it('token sign prints the token alone, signed with the configured secret', async () => {
    const r = await usher(['token', 'sign', '--stream', '/live/demo', '--account', 'alice', '--plan', 'gold', '--device', 'tv', '--action', 'publish', '--ttl', '5m'], env);
    expect(r.code).toBe(0);
    const token = r.stdout.trim();
    expect(r.stdout).toBe(`${token}\n`);
    const p = verifySigned(SECRET, token, '1.2.3.4', Date.now());
    expect(p).toMatchObject({ s: 'live/demo', a: 'publish', sub: 'alice', plan: 'gold', dev: 'tv' });
    expect(p.e - Date.now() / 1000).toBeGreaterThan(290);
  });

  it('token sign refuses a --ttl past 400 days with exit code 2 naming the option', async () => {
    const r = await usher(['token', 'sign', '--stream', 'live/demo', '--account', 'a', '--ttl', '100000000000d'], env);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/--ttl must be at most 400d/);
  });

  it('token sign without a configured secret uses (and creates) the data folder key, like serve', async () => {
    const dir = tmpDir();
    const e = { USHER_STORE_PATH: join(dir, 'usher.db') };
    const a = (await usher(['token', 'sign', '--stream', 's'], e)).stdout.trim();
    const key = (await import('node:fs')).readFileSync(join(dir, 'signing.key'), 'utf8').trim();
    expect(verifySigned(key, a, '', Date.now()).s).toBe('s');
  });

  it('sessions list (table and --json), kill, invalidate, clear talk to the running server', async () => {
    const token = u.sign({ stream: 'cli/a', account: 'cli' });
    const a = await u.api('POST', '/v1/admission', { action: 'play', stream: 'cli/a', token, ip: '10.1.1.1' });
    const table = await usher(['sessions', 'list', '--stream', 'cli/a'], env);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/^ID\s+KIND\s+STATUS/);
    expect(table.stdout).toContain(a.body.sessionId);
    const json = await usher(['sessions', 'list', '--account', 'cli', '--json'], env);
    const items = JSON.parse(json.stdout);
    expect(Array.isArray(items)).toBe(true);
    expect(items[0]).toMatchObject({ id: a.body.sessionId, kind: 'viewer', status: 'active', stream: 'cli/a', account: 'cli', ip: '10.1.1.1', server: 'api' });
    for (const k of ['id', 'kind', 'status', 'reason', 'stream', 'account', 'plan', 'device', 'ip', 'protocol', 'server', 'clientId', 'startedAt', 'endedAt']) expect(items[0]).toHaveProperty(k);
    const inv = await usher(['sessions', 'invalidate', 'cli/a', '--json'], env);
    expect(JSON.parse(inv.stdout)).toEqual({ checked: 1, killed: [] });
    const kill = await usher(['sessions', 'kill', a.body.sessionId, '--reason', 'cli test'], env);
    expect(kill.code).toBe(0);
    expect((await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body).toMatchObject({ status: 'killed', reason: 'cli test' });
    const clear = await usher(['sessions', 'clear', '--older-than', '0s'], env);
    expect(clear.stdout).toMatch(/deleted [1-9]\d* finished session/);
    expect((await usher(['sessions', 'kill', 'no-such-id'], env)).code).toBe(1);
  });

  it('config check: ok prints the config with secrets hidden; a bad key exits 2 naming it', async () => {
    const ok = await usher(['config', 'check'], env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^config ok/);
    expect(ok.stdout).not.toContain(ADMIN_TOKEN);
    expect(ok.stdout).not.toContain(SECRET);
    const dir = tmpDir();
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'sessions:\n  timeoutSecond: 5\n');
    const bad = await usher(['config', 'check', '--config', file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('sessions.timeoutSecond');
    const badEnv = await usher(['config', 'check'], { USHER_STORE_DRIVER: 'mongo' });
    expect(badEnv.code).toBe(2);
    expect(badEnv.stderr).toContain('store.driver');
  });

  it('serve refuses to start with an invalid config (exit 2, names the key)', async () => {
    const r = await usher(['serve'], { USHER_HTTP_LISTEN: '0.0.0.0:0' });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('http.adminToken');
  });

  it('unknown commands and missing arguments exit 2 with usage', async () => {
    expect((await usher(['frobnicate'])).code).toBe(2);
    expect((await usher(['sessions', 'kill'], env)).code).toBe(2);
    expect((await usher(['token', 'sign'])).code).toBe(2);
  });
});
