/**
 * Test harness: a real Usher (in-process, real HTTP on a loopback port, real SQLite on disk) or a real child process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startApp, type App } from '../../src/app.js';
import { signToken, type SignOptions } from '../../src/auth/signed-url.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { silentLogger } from '../../src/log.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const SECRET = 'test-signing-secret';

export interface TestUsher {
  app: App;
  config: Config;
  url: string;
  dir: string;
  sign(o: Omit<SignOptions, 'ttlSeconds'> & { ttlSeconds?: number }): string;
  /** fetch against Usher with the admin token. */
  api(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  stop(): Promise<void>;
}

function deepMerge(a: Record<string, unknown>, b: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const cur = out[k];
    out[k] = cur && typeof cur === 'object' && !Array.isArray(cur) && v && typeof v === 'object' && !Array.isArray(v)
      ? deepMerge(cur as Record<string, unknown>, v as Record<string, unknown>) : v;
  }
  return out;
}

export function testConfig(overrides: Record<string, unknown> = {}, dir = mkdtempSync(join(tmpdir(), 'usher-test-'))): { config: Config; dir: string } {
  const base = {
    http: { listen: '127.0.0.1:0', adminToken: ADMIN_TOKEN },
    rtsp: { enabled: false, listen: '127.0.0.1:0' },
    store: { driver: 'sqlite', path: join(dir, 'usher.db'), synchronous: 'normal' },
    auth: { signedUrls: { secret: SECRET }, failureDelayMs: 0 },
    log: { level: 'silent' },
  };
  return { config: loadConfig({ env: {}, overrides: deepMerge(base, overrides) }), dir };
}

export async function startUsher(overrides: Record<string, unknown> = {}, dir?: string): Promise<TestUsher> {
  const { config, dir: d } = testConfig(overrides, dir);
  const app = await startApp(config, silentLogger);
  const url = `http://127.0.0.1:${app.httpPort()}`;
  return {
    app, config, url, dir: d,
    sign: (o) => signToken(config.auth.signedUrls.secret, { ttlSeconds: 3600, ...o }),
    api: (method, path, body) => call(url, method, path, body, config.http.adminToken),
    async stop() {
      await app.stop();
    },
  };
}

export async function call(base: string, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(base + path, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* keep text */
  }
  return { status: res.status, body: parsed };
}

export const CLI = resolve('dist/src/cli/main.js');

/** Start `usher serve` as a real child process (built CLI) and wait until /healthz answers. */
export async function spawnUsher(env: Record<string, string>, cwd?: string): Promise<{ proc: ChildProcess; url: string; output: () => string }> {
  const proc = spawn(process.execPath, [CLI, 'serve'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proc.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const listen = env.USHER_HTTP_LISTEN ?? '127.0.0.1:8088';
  const url = `http://${listen}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`usher exited with ${proc.exitCode}: ${out}`);
    try {
      const r = await fetch(url + '/healthz', { signal: AbortSignal.timeout(500) });
      if (r.ok) break;
    } catch {
      /* not yet */
    }
    if (Date.now() > deadline) {
      proc.kill('SIGKILL');
      throw new Error(`usher did not start: ${out}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { proc, url, output: () => out };
}

export function tmpDir(prefix = 'usher-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Poll until `fn` returns a truthy value (bounded). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 10_000, stepMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`waitFor timed out${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
