/**
 * Node-Media-Server v4 conformance: the notify body of src/server/notify_server.js, posted like NMS posts it
 * (fetch with a string body, no Content-Type set by NMS), and the answer NMS acts on (exactly 200 keeps the
 * session, anything else makes it call session.close()). The API fake checks the challenge login, the bearer
 * JWT, kick and list.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeNms } from '../fakes/nms.js';
import { byClient, hook, sessions, waitStatus } from './kit.js';

const ACCOUNT = { user: 'admin', password: 'nms-pass' };

const notify = (o: { id: string; action: string; query: unknown; name?: string; protocol?: string; ip?: string; inbytes?: number; outbytes?: number }) => JSON.stringify({
  id: o.id, ip: o.ip ?? '::ffff:127.0.0.1:54321', app: 'live', name: o.name ?? 'demo', query: o.query, protocol: o.protocol ?? 'rtmp',
  createtime: 1767225600000, endtime: o.action.startsWith('done') ? 1767225660000 : 0, inbytes: o.inbytes ?? 0, outbytes: o.outbytes ?? 0,
  filePath: '', action: o.action,
});

describe('Node-Media-Server notify', () => {
  let u: TestUsher;
  let fake: FakeNms;
  // NMS: fetch(url, { method: "POST", body: JSON.stringify(...) }) — no headers of its own
  const send = (body: string) => hook(u, '/hooks/nms?server=nms1', { body });

  beforeAll(async () => {
    fake = await new FakeNms(ACCOUNT).start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'nms1', type: 'nms', api: fake.url, ...ACCOUNT, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('answers 200 to an allowed postPlay (query as an object, ip with a port) and ends it at donePlay', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'alice' });
    const r = await send(notify({ id: 'lz1k2v3abcdefgh', action: 'postPlay', query: { tkn: token } }));
    expect(r.status).toBe(200);
    const s = (await byClient(u, 'nms1', 'lz1k2v3abcdefgh'))!;
    expect(s).toMatchObject({ kind: 'viewer', status: 'active', stream: 'live/demo', ip: '127.0.0.1', protocol: 'rtmp' });
    const d = await send(notify({ id: 'lz1k2v3abcdefgh', action: 'donePlay', query: { tkn: token }, inbytes: 10, outbytes: 2048 }));
    expect(d.status).toBe(200);
    const ended = await waitStatus(u, s.id, 'ended');
    expect([ended.bytesIn, ended.bytesOut]).toEqual([10, 2048]);
  });

  it('admits the doubled postPublish (NMS sends prePublish under that name) as one session', async () => {
    const token = u.sign({ stream: 'live/cam', account: 'studio', action: 'publish' });
    const body = notify({ id: 'pubsess0001', action: 'postPublish', name: 'cam', query: { tkn: token } });
    expect((await send(body)).status).toBe(200);
    expect((await send(body)).status).toBe(200);
    const mine = (await sessions(u, 'server=nms1')).filter((s) => s.clientId === 'pubsess0001');
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ kind: 'input', stream: 'live/cam', status: 'active' });
  });

  it('answers 403 to a refused prePlay (NMS then closes the session); a query string works too', async () => {
    expect((await send(notify({ id: 'badsess0001', action: 'prePlay', query: { tkn: 'forged.token' } }))).status).toBe(403);
    const token = u.sign({ stream: 'live/demo', account: 'bob' });
    const r = await send(notify({ id: 'flvsess0001', action: 'postPlay', protocol: 'flv', ip: '::1:61000', query: `tkn=${token}` }));
    expect(r.status).toBe(200);
    expect(await byClient(u, 'nms1', 'flvsess0001')).toMatchObject({ protocol: 'flv', ip: '::1' });
  });

  it('answers 200 to record notifications without creating sessions', async () => {
    expect((await send(notify({ id: 'rec1', action: 'postRecord', query: {} }))).status).toBe(200);
    expect(await byClient(u, 'nms1', 'rec1')).toBeUndefined();
  });

  it('kicks with DELETE /api/v1/sessions/:id and a JWT from the challenge login, renewing it when refused', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'carol' });
    for (const id of ['kick0001', 'kick0002']) {
      expect((await send(notify({ id, action: 'postPlay', query: { tkn: token }, ip: `::ffff:10.0.0.${id.at(-1)}:5000` }))).status).toBe(200);
      fake.sessions.push({ id, ip: '::ffff:10.0.0.1:5000', isPublisher: false, protocol: 'rtmp', app: 'live', name: 'demo' });
    }
    const first = (await byClient(u, 'nms1', 'kick0001'))!;
    const k = await u.api('DELETE', `/v1/sessions/${first.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    const del = fake.calls('/api/v1/sessions/kick0001', 'DELETE');
    expect(del).toHaveLength(1);
    expect(fake.tokens.has((del[0].headers.authorization ?? '').replace('Bearer ', ''))).toBe(true);
    expect(fake.calls('/api/v1/login', 'POST')).toHaveLength(2);

    fake.tokens.clear(); // the JWT expired
    const second = (await byClient(u, 'nms1', 'kick0002'))!;
    const k2 = await u.api('DELETE', `/v1/sessions/${second.id}`);
    expect([k2.status, k2.body.status]).toEqual([200, 'killed']);
    expect(fake.calls('/api/v1/login', 'POST')).toHaveLength(4);
    expect(fake.sessions.map((s) => s.id)).not.toContain('kick0002');
  });

  it('keeps a kick `killing` while the API is down and completes it when it is back', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'dan' });
    expect((await send(notify({ id: 'kick0003', action: 'postPlay', query: { tkn: token } }))).status).toBe(200);
    const s = (await byClient(u, 'nms1', 'kick0003'))!;
    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([202, 'killing']);
    await fake.start();
    await waitStatus(u, s.id, 'killed');
  });
});

describe('Node-Media-Server sync', () => {
  let u: TestUsher;
  let fake: FakeNms;

  beforeAll(async () => {
    fake = await new FakeNms(ACCOUNT).start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, auth: { anonymousPlay: true }, servers: [{ name: 'nms1', type: 'nms', api: fake.url, ...ACCOUNT, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('ends what NMS lost; admits an unknown anonymous player, kicks an unknown publisher', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'erin' });
    expect((await hook(u, '/hooks/nms', { body: notify({ id: 'gone0001', action: 'postPlay', query: { tkn: token } }) })).status).toBe(200);
    const gone = (await byClient(u, 'nms1', 'gone0001'))!;
    fake.sessions = [
      { id: 'newplay01', ip: '::ffff:10.1.1.1:4000', isPublisher: false, protocol: 'flv', app: 'live', name: 'demo' },
      { id: 'newpub001', ip: '::ffff:10.1.1.2:4001', isPublisher: true, protocol: 'rtmp', app: 'live', name: 'cam' },
    ];
    const s = await u.api('POST', '/v1/servers/nms1/sync');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ listed: 2, ended: 1, admitted: 1, kicked: 1 });
    await waitStatus(u, gone.id, 'ended');
    expect(await byClient(u, 'nms1', 'newplay01')).toMatchObject({ status: 'active', ip: '10.1.1.1', stream: 'live/demo', protocol: 'flv' });
    expect(fake.calls('/api/v1/sessions/newpub001', 'DELETE')).toHaveLength(1);
  });
});
