/**
 * OvenMediaEngine AdmissionWebhooks conformance: the documented request (headers, body, X-OME-Signature =
 * base64url(HMAC-SHA1(secret, body)) without padding), and the answers OME reads (HTTP 200 with `allowed`,
 * `lifetime` in ms, `reason`; `{}` for closing). OME has no list/kick API.
 */
import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitUrl } from '../../src/adapters/ome.js';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { byClient, hook, sessions, waitStatus } from './kit.js';

const SECRET = '1234';

const sign = (body: string, secret = SECRET): string => createHmac('sha1', secret).update(body).digest('base64url');

const admission = (o: { direction: 'incoming' | 'outgoing'; protocol: string; status: 'opening' | 'closing'; url: string; port?: number }) => JSON.stringify({
  client: { address: '211.233.58.86', port: o.port ?? 29291, real_ip: '192.0.2.43', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/110.0.0.0' },
  request: { direction: o.direction, protocol: o.protocol, status: o.status, url: o.url, time: '2021-05-12T13:45:00.000Z' },
});

describe('OvenMediaEngine AdmissionWebhooks', () => {
  let u: TestUsher;
  const send = (body: string, signature: string | null = sign(body)) => hook(u, '/hooks/ome?server=ome1', {
    body,
    headers: { 'content-type': 'application/json', accept: 'application/json', ...(signature === null ? {} : { 'x-ome-signature': signature }) },
  });

  beforeAll(async () => {
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      auth: { anonymousPlay: true },
      servers: [{ name: 'ome1', type: 'ome', secret: SECRET }],
    });
  });
  afterAll(async () => u.stop());

  it('allows a signed WebRTC opening with a lifetime up to the token expiry, and ends it on closing', async () => {
    const token = u.sign({ stream: 'app/stream', account: 'alice', ttlSeconds: 3600 });
    const url = `ws://host:3333/app/stream?tkn=${token}&transport=tcp`;
    const r = await send(admission({ direction: 'outgoing', protocol: 'webrtc', status: 'opening', url }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/json/);
    const a = JSON.parse(r.body) as { allowed: boolean; lifetime: number };
    expect(a.allowed).toBe(true);
    expect(a.lifetime).toBeGreaterThan(0);
    expect(a.lifetime).toBeLessThanOrEqual(3600 * 1000);
    const s = (await byClient(u, 'ome1', 'webrtc:211.233.58.86:29291'))!;
    expect(s).toMatchObject({ kind: 'viewer', status: 'active', stream: 'app/stream', ip: '211.233.58.86', protocol: 'webrtc' });

    const c = await send(admission({ direction: 'outgoing', protocol: 'webrtc', status: 'closing', url }));
    expect([c.status, c.body]).toEqual([200, '{}']);
    await waitStatus(u, s.id, 'ended');
  });

  it('admits an RTMP publish (incoming) and answers lifetime 0 when the session has no expiry', async () => {
    const token = u.sign({ stream: 'app/cam', account: 'studio', action: 'publish' });
    const r = await send(admission({ direction: 'incoming', protocol: 'rtmp', status: 'opening', url: `rtmp://host:1935/app/cam?tkn=${token}`, port: 40001 }));
    expect(JSON.parse(r.body)).toMatchObject({ allowed: true });
    expect(await byClient(u, 'ome1', 'rtmp:211.233.58.86:40001')).toMatchObject({ kind: 'input', stream: 'app/cam' });

    const anon = await send(admission({ direction: 'outgoing', protocol: 'srt', status: 'opening', url: 'srt://host:9999/app/cam', port: 40002 }));
    expect(JSON.parse(anon.body)).toEqual({ allowed: true, lifetime: 0 });
  });

  it('reads an OBS-style RTMP publish: token on the application, so OME\'s URL is tcUrl + "/" + stream', async () => {
    const token = u.sign({ stream: 'app/obs', account: 'studio', action: 'publish' });
    const r = await send(admission({ direction: 'incoming', protocol: 'rtmp', status: 'opening', url: `rtmp://host:1935/app?tkn=${token}/obs`, port: 40011 }));
    expect(JSON.parse(r.body)).toMatchObject({ allowed: true });
    expect(await byClient(u, 'ome1', 'rtmp:211.233.58.86:40011')).toMatchObject({ kind: 'input', stream: 'app/obs' });
    expect(splitUrl('rtmp://h/app?tkn=A/cam?x=1')).toEqual({ stream: 'app/cam', query: 'x=1&tkn=A' });
    // a full path keeps its query whole, slashes and all
    expect(splitUrl('wss://h:3333/app/cam?next=a/b')).toEqual({ stream: 'app/cam', query: 'next=a/b' });
  });

  it('drops the playlist file of an LLHLS URL and tracks no connection for it (OME sends no closing)', async () => {
    const token = u.sign({ stream: 'app/stream', account: 'bob' });
    const r = await send(admission({ direction: 'outgoing', protocol: 'llhls', status: 'opening', url: `https://host:3334/app/stream/llhls.m3u8?tkn=${token}` }));
    expect(JSON.parse(r.body)).toMatchObject({ allowed: true });
    const s = (await sessions(u, 'server=ome1')).find((x) => x.account === 'bob');
    expect(s).toMatchObject({ stream: 'app/stream', protocol: 'llhls', clientId: null });
  });

  it('refuses with allowed:false and the reason (HTTP 200)', async () => {
    const r = await send(admission({ direction: 'outgoing', protocol: 'webrtc', status: 'opening', url: 'ws://host:3333/app/stream?tkn=forged.token', port: 40003 }));
    expect(r.status).toBe(200);
    const a = JSON.parse(r.body) as { allowed: boolean; reason: string };
    expect(a.allowed).toBe(false);
    expect(a.reason).toMatch(/^E_TOKEN_INVALID: /);
  });

  it('rejects a missing or wrong X-OME-Signature with 401 before reading the body', async () => {
    const body = admission({ direction: 'outgoing', protocol: 'webrtc', status: 'opening', url: 'ws://host:3333/app/stream' });
    expect((await send(body, null)).status).toBe(401);
    expect((await send(body, sign(body, 'other-secret'))).status).toBe(401);
    expect((await send(body + ' ', sign(body))).status).toBe(401);
    // OME strips base64 padding; a padded signature is the same signature
    expect((await send(body, createHmac('sha1', SECRET).update(body).digest('base64').replace(/\+/g, '-').replace(/\//g, '_'))).status).toBe(200);
  });

  it('a kick completes at once (OME cannot drop one viewer) and the banned key is refused at the next opening', async () => {
    const token = u.sign({ stream: 'app/stream', account: 'carol' });
    const url = `ws://host:3333/app/stream?tkn=${token}`;
    expect(JSON.parse((await send(admission({ direction: 'outgoing', protocol: 'webrtc', status: 'opening', url, port: 40010 }))).body)).toMatchObject({ allowed: true });
    const s = (await byClient(u, 'ome1', 'webrtc:211.233.58.86:40010'))!;
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    const again = JSON.parse((await send(admission({ direction: 'outgoing', protocol: 'webrtc', status: 'opening', url, port: 40011 }))).body) as { allowed: boolean; reason: string };
    expect(again.allowed).toBe(false);
    expect(again.reason).toMatch(/^E_DENIED_RECENTLY: /);
  });

  it('has no list API: sync is refused and /v1/servers says so', async () => {
    const info = await u.api('GET', '/v1/servers');
    expect(info.body.items.find((s: { name: string }) => s.name === 'ome1')).toMatchObject({ type: 'ome', canList: false });
    expect((await u.api('POST', '/v1/servers/ome1/sync')).status).toBe(409);
  });
});
