/**
 * MediaMTX conformance: the JSON auth request of internal/auth/manager.go (`authenticateHTTP`, Go field order),
 * the answers MediaMTX acts on (2xx allow, 401 ask for credentials, other refuse), and the Control API v3 for
 * kick (`POST /v3/<kind>/kick/{id}`) and sync (`/v3/<kind>/list`, paginated).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeMediamtx } from '../fakes/mediamtx.js';
import { byClient, hook, sessions, waitStatus } from './kit.js';

const API = { user: 'usher', password: 'api-secret' };

interface AuthReq {
  ip?: string;
  user?: string;
  password?: string;
  token?: string;
  action: string;
  path?: string;
  protocol?: string;
  id?: string | null;
  query?: string;
  userAgent?: string;
}

/** Exactly what MediaMTX marshals: every field present, in struct order. */
const body = (r: AuthReq): string => JSON.stringify({
  ip: r.ip ?? '127.0.0.1', user: r.user ?? '', password: r.password ?? '', token: r.token ?? '', action: r.action,
  path: r.path ?? '', protocol: r.protocol ?? '', id: r.id === undefined ? null : r.id, query: r.query ?? '', userAgent: r.userAgent ?? '',
});

describe('MediaMTX auth hook', () => {
  let u: TestUsher;
  let fake: FakeMediamtx;
  const send = (r: AuthReq) => hook(u, '/hooks/mediamtx?server=mtx1', { body: body(r), headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    fake = await new FakeMediamtx(API).start();
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      servers: [{ name: 'mtx1', type: 'mediamtx', api: fake.url, user: API.user, password: API.password, timeoutMs: 1000 }],
    });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('answers 401 to the first RTSP request that carries no credentials, so the client sends them', async () => {
    const r = await send({ action: 'read', path: 'live/demo', protocol: 'rtsp', id: 'aaaaaaaa-0000-4000-8000-000000000001', userAgent: 'LIBVLC/3.0.20' });
    expect(r.status).toBe(401);
    expect(r.body).toMatch(/^E_CREDENTIALS_REQUIRED: /);
    expect(await sessions(u, 'status=active')).toHaveLength(0);
  });

  it('admits an RTSP read with the token in the query; DESCRIBE and SETUP ids join one session', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'alice', device: 'tv' });
    const conn = '11111111-1111-4111-8111-111111111111';
    const sess = '22222222-2222-4222-8222-222222222222';
    const describe = await send({ action: 'read', path: 'live/demo', protocol: 'rtsp', id: conn, query: `tkn=${token}`, userAgent: 'LIBVLC/3.0.20' });
    expect(describe.status).toBe(200);
    const setup = await send({ action: 'read', path: 'live/demo', protocol: 'rtsp', id: sess, query: `tkn=${token}`, userAgent: 'LIBVLC/3.0.20' });
    expect(setup.status).toBe(200);
    const live = (await sessions(u, 'status=active&server=mtx1')).filter((s) => s.account === 'alice');
    expect(live).toHaveLength(1);
    expect(live[0]).toMatchObject({ kind: 'viewer', stream: 'live/demo', protocol: 'rtsp', clientId: conn, userAgent: 'LIBVLC/3.0.20' });

    // kick: the DESCRIBE connection id is not a kickable session (404 in both RTSP lists); the SETUP session id is
    fake.kinds.rtspsessions.push({ id: sess, path: 'live/demo', query: `tkn=${token}`, remoteAddr: '127.0.0.1:50000', state: 'read' });
    const k = await u.api('DELETE', `/v1/sessions/${live[0].id}`);
    expect(k.status).toBe(200);
    expect(k.body.status).toBe('killed');
    const kicks = fake.requests.filter((x) => x.path.includes('/kick/')).map((x) => `${x.method} ${x.path}`);
    expect(kicks).toContain(`POST /v3/rtspsessions/kick/${sess}`);
    expect(kicks).toContain(`POST /v3/rtspsessions/kick/${conn}`);
    expect(fake.kinds.rtspsessions).toHaveLength(0);
    const auth = fake.calls(`/v3/rtspsessions/kick/${sess}`)[0].headers.authorization;
    expect(auth).toBe(`Basic ${Buffer.from('usher:api-secret').toString('base64')}`);
  });

  it('admits an RTMP publish whose token came as the password (MediaMTX copies it into `token`)', async () => {
    const token = u.sign({ stream: 'live/cam', account: 'studio', action: 'publish' });
    const r = await send({ action: 'publish', path: 'live/cam', protocol: 'rtmp', user: 'studio', password: token, token, id: '33333333-3333-4333-8333-333333333333', ip: '10.1.2.3' });
    expect(r.status).toBe(200);
    expect(await byClient(u, 'mtx1', '33333333-3333-4333-8333-333333333333')).toMatchObject({ kind: 'input', stream: 'live/cam', ip: '10.1.2.3', protocol: 'rtmp' });
  });

  it('reads the credential from the password alone (v1.17 and earlier send no `token`/`userAgent` fields)', async () => {
    const token = u.sign({ stream: 'live/old', account: 'studio', action: 'publish' });
    const old = JSON.stringify({ ip: '10.1.2.4', user: 'any', password: token, path: 'live/old', protocol: 'rtsp', id: '55555555-5555-4555-8555-555555555555', action: 'publish', query: '' });
    const r = await hook(u, '/hooks/mediamtx?server=mtx1', { body: old, headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    expect(await byClient(u, 'mtx1', '55555555-5555-4555-8555-555555555555')).toMatchObject({ kind: 'input', stream: 'live/old' });
  });

  it('refuses a bad token with 403 (credentials were given, asking again is pointless)', async () => {
    const r = await send({ action: 'read', path: 'live/demo', protocol: 'webrtc', token: 'not-a-token', id: '44444444-4444-4444-8444-444444444444' });
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_TOKEN_INVALID: /);
  });

  it('admits playback (id null) without a connection id', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'pat' });
    const r = await send({ action: 'playback', path: 'live/demo', protocol: '', id: null, query: `token=${token}` });
    expect(r.status).toBe(200);
    const s = (await sessions(u, 'status=active&server=mtx1')).find((x) => x.account === 'pat');
    expect(s).toMatchObject({ kind: 'viewer', clientId: null });
  });

  it('lets api/metrics/pprof through only with the API credentials configured for this server', async () => {
    expect((await send({ action: 'api', user: API.user, password: API.password })).status).toBe(200);
    expect((await send({ action: 'metrics', user: API.user, password: API.password })).status).toBe(200);
    expect((await send({ action: 'api', user: 'mallory', password: 'x' })).status).toBe(401);
    expect((await send({ action: 'pprof' })).status).toBe(401);
  });

  it('ends a connection reported by runOnUnread/runOnDisconnect at /hooks/mediamtx/closed', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'quinn' });
    const id = '55555555-5555-4555-8555-555555555555';
    expect((await send({ action: 'read', path: 'live/demo', protocol: 'srt', id, query: `tkn=${token}` })).status).toBe(200);
    const s = (await byClient(u, 'mtx1', id))!;
    const r = await hook(u, `/hooks/mediamtx/closed?server=mtx1&id=${id}`, { method: 'POST' });
    expect(r.status).toBe(200);
    await waitStatus(u, s.id, 'ended');
  });

  it('keeps a kick `killing` while the API is down and completes it when it is back', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'rita' });
    const id = '66666666-6666-4666-8666-666666666666';
    expect((await send({ action: 'read', path: 'live/demo', protocol: 'webrtc', id, query: `tkn=${token}` })).status).toBe(200);
    fake.kinds.webrtcsessions.push({ id, path: 'live/demo', remoteAddr: '127.0.0.1:5000', state: 'read' });
    const s = (await byClient(u, 'mtx1', id))!;
    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect(k.status).toBe(202);
    expect((await u.api('GET', `/v1/sessions/${s.id}`)).body.status).toBe('killing');
    await fake.start();
    await waitStatus(u, s.id, 'killed');
    expect(fake.calls(`/v3/webrtcsessions/kick/${id}`, 'POST')).toHaveLength(1);
  });
});

describe('MediaMTX sync', () => {
  let u: TestUsher;
  let fake: FakeMediamtx;

  beforeAll(async () => {
    fake = await new FakeMediamtx().start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'mtx1', type: 'mediamtx', api: fake.url, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('ends sessions MediaMTX no longer lists; admits unknown clients with a valid token, kicks the rest', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'sam' });
    const gone = '77777777-7777-4777-8777-777777777777';
    const r = await hook(u, '/hooks/mediamtx', { body: body({ action: 'read', path: 'live/demo', protocol: 'rtmp', id: gone, query: `tkn=${token}` }), headers: { 'content-type': 'application/json' } });
    expect(r.status).toBe(200);
    const goneSession = (await byClient(u, 'mtx1', gone))!;

    const good = u.sign({ stream: 'live/demo', account: 'tess' });
    // 1001 idle sessions first, so the two live ones are on page 2 (itemsPerPage=1000)
    fake.kinds.rtspsessions = Array.from({ length: 1001 }, (_, i) => ({ id: `idle-${i}`, path: 'live/demo', remoteAddr: '127.0.0.1:1', state: 'idle' as const }));
    fake.kinds.rtspsessions.push({ id: 'known-good', path: 'live/demo', query: `tkn=${good}`, remoteAddr: '10.9.8.7:40000', state: 'read' });
    fake.kinds.hlssessions.push({ id: 'no-token', path: 'live/demo', query: '', remoteAddr: '[2001:db8::1]:443' });

    const s = await u.api('POST', '/v1/servers/mtx1/sync');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ listed: 2, ended: 1, admitted: 1, kicked: 1 });
    await waitStatus(u, goneSession.id, 'ended');
    expect(await byClient(u, 'mtx1', 'known-good')).toMatchObject({ status: 'active', account: 'tess', ip: '10.9.8.7', protocol: 'rtsp' });
    expect(fake.calls('/v3/hlssessions/kick/no-token', 'POST')).toHaveLength(1);
    expect(fake.calls('/v3/rtspsessions/list').map((x) => x.query.get('page'))).toEqual(['0', '1']);
  });
});

describe('MediaMTX: 401 or 403 is the pipeline\'s decision (issue 8 §4)', () => {
  let u: TestUsher;
  const send = (r: AuthReq) => hook(u, '/hooks/mediamtx', { body: body(r), headers: { 'content-type': 'application/json' } });
  beforeAll(async () => {
    u = await startUsher({ sessions: { tokenParam: 'key' }, auth: { anonymousPlay: true }, streams: { 'full/*': { maxViewers: 1 } } });
  });
  afterAll(async () => u.stop());

  it('a bad token in the configured query parameter is refused (403), not asked for again', async () => {
    const r = await send({ action: 'publish', path: 'live/k', protocol: 'rtsp', id: 'aaaaaaaa-0000-4000-8000-000000000009', query: 'key=bad.token' });
    expect([r.status, r.body.split(':')[0]]).toEqual([403, 'E_TOKEN_INVALID']);
  });

  it('an anonymous RTSP read refused for a full stream is a 403: credentials would not change that', async () => {
    expect((await send({ action: 'read', path: 'full/a', protocol: 'rtsp', id: 'aaaaaaaa-0000-4000-8000-00000000000a' })).status).toBe(200);
    const r = await send({ action: 'read', path: 'full/a', protocol: 'rtsp', id: 'aaaaaaaa-0000-4000-8000-00000000000b', ip: '10.9.9.9' });
    expect([r.status, r.body.split(':')[0]]).toEqual([403, 'E_STREAM_FULL']);
  });
});
