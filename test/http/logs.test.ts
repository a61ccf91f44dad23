import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Type } from 'typebox';
import { SECRET_KEYS } from '../../src/config/secrets.js';
import { AccountsAndPlans } from '../../src/core/accounts-and-plans.js';
import type { HttpContext } from '../../src/http/context.js';
import { route } from '../../src/http/route.js';
import { ROUTES } from '../../src/http/routes/index.js';
import { createHttpServer } from '../../src/http/server.js';
import { createLogger, RateLimitedLog } from '../../src/log.js';
import { Metrics } from '../../src/metrics.js';
import { call, startUsher, type TestUsher } from '../helpers/usher.js';

const JWT_SECRET = 'client-jwt-test-secret-0123456789';

function capture(level = 'info'): { log: ReturnType<typeof createLogger>; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const sink = new Writable({ write(chunk, _enc, cb) { out.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
  return { log: createLogger(level, sink), lines: () => out.map((l) => JSON.parse(l)) };
}

describe('error logs under a budget (RateLimitedLog)', () => {
  it('writes at most `max` full lines per interval, then one summary line with the count suppressed', async () => {
    const { log, lines } = capture();
    let now = 1_000_000;
    const limited = new RateLimitedLog(log, { max: 3, intervalMs: 10_000, now: () => now });
    for (let i = 0; i < 25; i++) limited.error({ i }, 'request failed');
    expect(lines().map((l) => l.i)).toEqual([0, 1, 2]);
    now += 10_000;
    limited.error({ i: 25 }, 'request failed');
    const after = lines();
    expect(after).toHaveLength(5);
    expect(after[3]).toMatchObject({ suppressed: 22, level: 50 });
    expect(after[4]).toMatchObject({ i: 25 });
    limited.flush();
    expect(lines()).toHaveLength(5); // nothing suppressed since: no empty summary
  });

  it('redacts every config secret (one list, src/config/secrets.ts) wherever it sits', () => {
    const { log, lines } = capture();
    const values = Object.fromEntries(SECRET_KEYS.map((k, i) => [k, `S3CRET-${i}`]));
    log.info({ ...values, http: { metricsToken: 'S3CRET-m' }, auth: { streamKeys: { 'live/a': 'S3CRET-k' } } }, 'config');
    const text = JSON.stringify(lines());
    expect(text).not.toMatch(/S3CRET/);
    expect(SECRET_KEYS).toEqual(expect.arrayContaining(['metricsToken', 'streamKeys', 'adminToken', 'password', 'secret', 'token']));
  });
});

describe('routes outside the table, on the same server: 500 leaks nothing; client-jwt checks the JWT', () => {
  let u: TestUsher;
  let url: string;
  let close: () => Promise<void>;
  const out = capture('error');
  beforeAll(async () => {
    u = await startUsher({ auth: { jwt: { secret: JWT_SECRET } } });
    const { config, registry, pipeline, store, servers } = u.app;
    const accounts = new AccountsAndPlans(store, config.plans);
    await accounts.load();
    const ctx: HttpContext = { config, log: out.log, store, registry, pipeline, accounts, servers, metrics: new Metrics(registry, pipeline, () => undefined) };
    const boom = route({
      method: 'GET', url: '/boom', auth: 'public', tag: 'test', summary: 'fails',
      schema: { response: { 200: Type.Object({}) } },
      handler() {
        throw new Error('secret detail at /var/lib/usher');
      },
    });
    const me = route({
      method: 'GET', url: '/v1/client/me', auth: 'client-jwt', tag: 'test', summary: 'who am I',
      schema: { response: { 200: Type.Object({ sub: Type.String() }) } },
      handler: (req) => ({ sub: String(req.jwtClaims?.sub) }),
    });
    const server = await createHttpServer(ctx, [...ROUTES, boom, me]);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  });
  afterAll(async () => {
    await close();
    await u.stop();
  });

  it('answers {code: E_INTERNAL, message} without the cause, and logs the cause', async () => {
    const r = await call(url, 'GET', '/boom');
    expect(r.status).toBe(500);
    expect(r.body).toEqual({ code: 'E_INTERNAL', message: 'internal error' });
    const logged = out.lines().find((l) => l.msg === 'request failed') as { err: { message: string }; path: string } | undefined;
    expect(logged?.err.message).toContain('secret detail');
    expect(logged?.path).toBe('/boom');
  });

  it('a client-jwt route needs the Bearer JWT of an account (401 otherwise) and sees its claims', async () => {
    expect((await call(url, 'GET', '/v1/client/me')).body).toMatchObject({ code: 'E_UNAUTHORIZED' });
    expect((await call(url, 'GET', '/v1/client/me', undefined, 'not.a.jwt')).status).toBe(401);
    const forged = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode('another-secret'));
    expect((await call(url, 'GET', '/v1/client/me', undefined, forged)).status).toBe(401);
    const jwt = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode(JWT_SECRET));
    const ok = await call(url, 'GET', '/v1/client/me', undefined, jwt);
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ sub: 'alice' });
  });
});
