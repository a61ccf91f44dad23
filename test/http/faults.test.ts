/**
 * The HTTP faults of issue 7 §5, each over a real socket against a real Usher (SQLite on disk).
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startApp } from '../../src/app.js';
import { signToken } from '../../src/auth/signed-url.js';
import { createLogger } from '../../src/log.js';
import { call, cleanup, startUsher, testConfig, waitFor, type TestUsher } from '../helpers/usher.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (stops.length) await stops.pop()!();
});

async function usher(overrides: Record<string, unknown> = {}): Promise<TestUsher> {
  const u = await startUsher(overrides);
  stops.push(async () => {
    await u.stop();
    cleanup(u.dir);
  });
  return u;
}

const connections = (u: TestUsher): Promise<number> =>
  new Promise((resolve, reject) => u.app.http.getConnections((err, n) => (err ? reject(err) : resolve(n))));

/** A raw TCP client that collects what the server sends and never closes its side unless told. */
function rawClient(port: number): Promise<{ sock: Socket; received: () => string; ended: () => boolean }> {
  return new Promise((resolve, reject) => {
    let data = '';
    let ended = false;
    const sock = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => resolve({ sock, received: () => data, ended: () => ended }));
    sock.on('data', (c: Buffer) => (data += c.toString()));
    sock.on('end', () => (ended = true));
    sock.on('error', () => {});
    sock.once('error', reject);
    stops.push(async () => void sock.destroy());
  });
}

describe('HTTP faults (issue 7 §5)', () => {
  it('headers over 16 KiB: 431 E_HEADERS_TOO_LARGE, and the server lets go of the socket though the client never closes it', async () => {
    const u = await usher();
    const port = u.app.httpPort();
    const c = await rawClient(port);
    c.sock.write(`GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20 * 1024)}\r\n\r\n`);
    await waitFor(() => c.received().includes('\r\n\r\n{'), 5000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 431 /);
    expect(JSON.parse(c.received().split('\r\n\r\n')[1])).toMatchObject({ code: 'E_HEADERS_TOO_LARGE' });
    // the client keeps its side open; the server must not (no FIN-WAIT-2 sockets held for minutes)
    await waitFor(async () => (await connections(u)) === 0, 5000);
    expect(c.sock.destroyed).toBe(false);
  });

  it('headers that never finish: 408 E_TIMEOUT after http.headersTimeoutMs, socket destroyed', async () => {
    const u = await usher({ http: { headersTimeoutMs: 200, requestTimeoutMs: 200 } });
    const c = await rawClient(u.app.httpPort());
    c.sock.write('GET /healthz HTTP/1.1\r\nhost: x\r\n'); // no blank line: the headers never end
    await waitFor(() => c.received().includes('\r\n\r\n{'), 5000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(c.received().split('\r\n\r\n')[1])).toMatchObject({ code: 'E_TIMEOUT' });
    await waitFor(async () => (await connections(u)) === 0, 5000);
  });

  it('not HTTP at all: 400 E_BAD_REQUEST, socket destroyed', async () => {
    const u = await usher();
    const c = await rawClient(u.app.httpPort());
    c.sock.write('HELLO THERE\r\n\r\n');
    await waitFor(() => c.received().includes('\r\n\r\n{'), 5000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 400 /);
    await waitFor(async () => (await connections(u)) === 0, 5000);
  });

  it('every list endpoint is paginated and bounded: {items, total, limit, offset}, limit ≤ 1000', async () => {
    const u = await usher();
    for (const path of ['/v1/sessions', '/v1/streams', '/v1/accounts', '/v1/plans', '/v1/denied', '/v1/servers']) {
      const ok = await u.api('GET', `${path}?limit=1000&offset=0`);
      expect(ok.status, path).toBe(200);
      expect(ok.body, path).toMatchObject({ items: expect.any(Array), total: expect.any(Number), limit: 1000, offset: 0 });
      expect((await u.api('GET', path)).body.limit, path).toBe(100);
      expect((await u.api('GET', `${path}?limit=1001`)).body, path).toMatchObject({ code: 'E_VALIDATION', field: 'limit' });
      expect((await u.api('GET', `${path}?offset=-1`)).body, path).toMatchObject({ code: 'E_VALIDATION', field: 'offset' });
    }
    // a list longer than a page comes a page at a time
    const N = 1100;
    for (let i = 0; i < N; i += 100) {
      await Promise.all(Array.from({ length: 100 }, (_, j) => u.api('PUT', `/v1/accounts/acct${i + j}`, { maxSessions: 1 })));
    }
    const first = await u.api('GET', '/v1/accounts');
    expect(first.body.total).toBe(N);
    expect(first.body.items).toHaveLength(100);
    const last = await u.api('GET', '/v1/accounts?limit=1000&offset=1000');
    expect(last.body.items).toHaveLength(N - 1000);
    expect(new Set([...first.body.items, ...last.body.items].map((a: { id: string }) => a.id)).size).toBe(100 + N - 1000);
  });

  it('20 pipelined GET /v1/stats on one socket are all answered, in order', async () => {
    const u = await usher();
    const c = await rawClient(u.app.httpPort());
    const req = `GET /v1/stats HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${u.config.http.adminToken}\r\n\r\n`;
    c.sock.write(req.repeat(20));
    await waitFor(() => (c.received().match(/HTTP\/1\.1 200 /g) ?? []).length === 20, 5000);
    expect(c.received().match(/"admissions":/g)).toHaveLength(20);
  });

  it('bad stream names are one kind of input: 400 E_VALIDATION with field "stream" (.., %00, control characters, too long, empty)', async () => {
    const u = await usher();
    for (const stream of ['live/../secret', '..', 'live/%00a', 'live/a\u0001b', 'x'.repeat(600), '/', '%2e%2e/a']) {
      const token = signToken(u.config.auth.signedUrls.secret, { stream: 'live/a', account: 'a', ttlSeconds: 60 });
      const r = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream, token });
      expect(r.status, JSON.stringify(stream)).toBe(400);
      expect(r.body, JSON.stringify(stream)).toMatchObject({ code: 'E_VALIDATION', field: 'stream' });
    }
  });

  it('admission takes form fields (curl -d) and a JSON text sent with the form type; hooks take raw bodies of any type', async () => {
    const u = await usher({ servers: [{ name: 'nms1', type: 'nms' }] });
    const token = signToken(u.config.auth.signedUrls.secret, { stream: 'live/f', account: 'f', ttlSeconds: 60 });
    const form = await fetch(`${u.url}/v1/admission`, { method: 'POST', body: new URLSearchParams({ action: 'play', stream: 'live/f', token }) });
    expect(form.status).toBe(200);
    expect(await form.json()).toMatchObject({ allow: true });
    const jsonAsForm = await fetch(`${u.url}/v1/admission`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: JSON.stringify({ action: 'play', stream: 'live/f', token }),
    });
    expect(jsonAsForm.status).toBe(200);
    const xml = await fetch(`${u.url}/v1/admission`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
    expect(xml.status).toBe(415);
    expect(await xml.json()).toMatchObject({ code: 'E_UNSUPPORTED_MEDIA_TYPE' });
    // Node-Media-Server posts JSON with no content type: the body reaches its adapter (which answers the play)
    const c = await rawClient(u.app.httpPort());
    const body = JSON.stringify({ id: 'c1', ip: '10.1.1.1', app: 'live', name: 'f', query: { tkn: token }, protocol: 'rtmp', action: 'postPlay' });
    c.sock.write(`POST /hooks/nms?server=nms1 HTTP/1.1\r\nhost: x\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await waitFor(() => /^HTTP\/1\.1 \d{3} /.test(c.received()), 5000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 200 /);
    const held = await u.api('GET', '/v1/sessions?server=nms1&status=active');
    expect(held.body.items.map((s: { clientId: string; stream: string }) => [s.clientId, s.stream])).toEqual([['c1', 'live/f']]);
  });

  it('a body over http.maxBodyBytes is refused with 413 from its declared length, before it is read', async () => {
    const u = await usher({ http: { maxBodyBytes: 2048 } });
    const c = await rawClient(u.app.httpPort());
    // declares 10 MB and sends 1 KiB of it: the answer must not wait for the rest
    c.sock.write(`POST /v1/admission HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 10000000\r\n\r\n${'{'.padEnd(1024, ' ')}`);
    await waitFor(() => c.received().includes('\r\n\r\n{'), 5000);
    expect(c.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(c.received()).toMatch(/E_PAYLOAD_TOO_LARGE/);
  });
});

describe('a store that cannot write (issue 7 §5: full disk)', () => {
  it('readiness fails, admissions answer 503 E_UNAVAILABLE, and the error log stays within its budget', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _enc, cb) { lines.push(...chunk.toString().split('\n').filter(Boolean)); cb(); } });
    const { config, dir } = testConfig();
    const app = await startApp(config, createLogger('error', sink));
    stops.push(async () => {
      await app.stop().catch(() => {});
      cleanup(dir);
    });
    const url = `http://127.0.0.1:${app.httpPort()}`;
    expect((await call(url, 'GET', '/healthz')).status).toBe(200);
    await app.store.close(); // the store's worker is gone: every write fails, as with a full disk
    const health = await call(url, 'GET', '/healthz');
    expect(health.status).toBe(503);
    expect(health.body).toMatchObject({ status: 'unavailable', code: 'E_UNAVAILABLE' });
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => {
      const token = signToken(config.auth.signedUrls.secret, { stream: 'full/a', account: `acct${i}`, ttlSeconds: 60 });
      return call(url, 'POST', '/v1/admission', { action: 'play', stream: 'full/a', token });
    }));
    for (const a of answers) {
      expect(a.status).toBe(503);
      expect(a.body).toMatchObject({ allow: false, code: 'E_UNAVAILABLE' });
    }
    const errors = lines.map((l) => JSON.parse(l)).filter((l) => l.level >= 50);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(10);
    expect(lines.join('\n')).not.toContain(config.http.adminToken);
  });
});
