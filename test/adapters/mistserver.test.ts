/**
 * MistServer trigger conformance: the text/plain payloads of src/session.cpp (USER_NEW, USER_END) and
 * CONN_CLOSE, with the headers of an HTTP trigger handler, and the boolean answer Mist reads. The controller API
 * fake checks `stop_sessid`, `clients` and the MD5 challenge login.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeMist } from '../fakes/mistserver.js';
import { byClient, hook, waitStatus } from './kit.js';

const ACCOUNT = { user: 'admin', password: 'mist-pass' };
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const sessid = (n: number) => createHash('sha256').update(`viewer-${n}`).digest('hex');

/** stream, viewer ip, tkn, connector, request url, session id, "false" (first call) — one value per line. */
const userNew = (o: { stream?: string; ip?: string; tkn: string; connector?: string; url?: string; sid: string }) =>
  [o.stream ?? 'live+demo', o.ip ?? '203.0.113.7', o.tkn, o.connector ?? 'HLS', o.url ?? 'http://mist:8080/hls/live+demo/index.m3u8', o.sid, 'false'].join('\n');

/** tkn, streams, connectors, hosts, duration, up, down, tags, hostTimes, connectorTimes, streamTimes, session id. */
const userEnd = (tkn: string, sid: string) => [tkn, 'live+demo', 'HLS', '203.0.113.7', '42', '9000', '300', '', '42', '42', '42', sid].join('\n');

describe('MistServer triggers', () => {
  let u: TestUsher;
  let fake: FakeMist;
  const send = (trigger: string, body: string) => hook(u, '/hooks/mistserver?server=mist1', {
    body,
    headers: { 'content-type': 'text/plain', 'x-trigger': trigger, 'x-trigger-uuid': '0f4e2c1a-1111-4222-8333-444455556666', 'x-trigger-unixmillis': '1767225600000' },
  });

  beforeAll(async () => {
    fake = await new FakeMist(ACCOUNT).start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'mist1', type: 'mistserver', api: fake.url, user: ACCOUNT.user, password: ACCOUNT.password, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('answers USER_NEW `true` for a valid token (wildcard stream live+demo counts as live/demo), USER_END ends it', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'alice' });
    const sid = sessid(1);
    const r = await send('USER_NEW', userNew({ tkn: token, sid }));
    expect([r.status, r.body]).toEqual([200, 'true']);
    const s = (await byClient(u, 'mist1', sid))!;
    expect(s).toMatchObject({ kind: 'viewer', status: 'active', stream: 'live/demo', ip: '203.0.113.7', protocol: 'hls', account: 'alice' });

    const e = await send('USER_END', userEnd(token, sid));
    expect([e.status, e.body]).toEqual([200, 'true']);
    const ended = await waitStatus(u, s.id, 'ended');
    expect([ended.bytesIn, ended.bytesOut]).toEqual([300, 9000]);
  });

  it('answers USER_NEW `false` for a bad token', async () => {
    const r = await send('USER_NEW', userNew({ tkn: 'forged.token', sid: sessid(2) }));
    expect([r.status, r.body]).toEqual([200, 'false']);
  });

  it("ignores Mist's own placeholder token (its pid) and reads the token from the request URL", async () => {
    const token = u.sign({ stream: 'live/demo', account: 'bob' });
    const r = await send('USER_NEW', userNew({ tkn: '48213', sid: sessid(3), connector: 'RTMP', url: `rtmp://mist/live/live+demo?tkn=${token}` }));
    expect(r.body).toBe('true');
    expect(await byClient(u, 'mist1', sessid(3))).toMatchObject({ account: 'bob', protocol: 'rtmp' });
  });

  it('acknowledges CONN_CLOSE and refuses unknown triggers', async () => {
    const c = await send('CONN_CLOSE', 'live+demo\n203.0.113.7\nHLS\nhttp://mist:8080/hls/live+demo/index.m3u8');
    expect([c.status, c.body]).toEqual([200, 'true']);
    const x = await send('STREAM_PUSH', 'live+demo\nrtmp://elsewhere/live\nRTMP\nx\ny');
    expect([x.status, x.body]).toEqual([400, 'false']);
  });

  it('kicks with stop_sessid after the MD5 challenge login', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'carol' });
    const sid = sessid(4);
    expect((await send('USER_NEW', userNew({ tkn: token, sid }))).body).toBe('true');
    fake.sessions.push({ host: '203.0.113.7', stream: 'live+demo', protocol: 'HLS', sessid: sid, conntime: 10 });
    const s = (await byClient(u, 'mist1', sid))!;
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    const bodies = fake.calls('/api', 'POST').map((x) => JSON.parse(x.body) as Record<string, any>).filter((b) => b.stop_sessid === sid);
    expect(bodies.map((b) => b.authorize)).toEqual([
      { username: 'admin', password: '' },
      { username: 'admin', password: md5(md5('mist-pass') + fake.challenge) },
    ]);
    expect(fake.sessions).toHaveLength(0);
  });

  it('keeps a kick `killing` while the API is down and completes it when it is back', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'dan' });
    const sid = sessid(5);
    expect((await send('USER_NEW', userNew({ tkn: token, sid }))).body).toBe('true');
    const s = (await byClient(u, 'mist1', sid))!;
    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([202, 'killing']);
    await fake.start();
    await waitStatus(u, s.id, 'killed');
  });
});

describe('MistServer sync', () => {
  let u: TestUsher;
  let fake: FakeMist;

  beforeAll(async () => {
    fake = await new FakeMist().start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'mist1', type: 'mistserver', api: fake.url, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('ends sessions Mist lost, kicks unknown viewers without a token, and leaves inputs/outputs alone', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'erin' });
    const gone = sessid(10);
    const r = await hook(u, '/hooks/mistserver', { body: userNew({ tkn: token, sid: gone }), headers: { 'content-type': 'text/plain', 'x-trigger': 'USER_NEW' } });
    expect(r.body).toBe('true');
    const goneSession = (await byClient(u, 'mist1', gone))!;
    fake.sessions = [
      { host: '198.51.100.4', stream: 'live+demo', protocol: 'HLS', sessid: sessid(11), conntime: 5 },
      { host: '0.0.0.0', stream: 'live+demo', protocol: 'INPUT:Buffer', sessid: `I${sessid(12)}`, conntime: 60 },
    ];
    const s = await u.api('POST', '/v1/servers/mist1/sync');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ listed: 1, ended: 1, admitted: 0, kicked: 1 });
    await waitStatus(u, goneSession.id, 'ended');
    const stops = fake.calls('/api', 'POST').map((x) => JSON.parse(x.body) as Record<string, unknown>).filter((b) => 'stop_sessid' in b);
    expect(stops.map((b) => b.stop_sessid)).toEqual([sessid(11)]);
    expect(fake.sessions.map((x) => x.sessid)).toEqual([`I${sessid(12)}`]);
  });
});
