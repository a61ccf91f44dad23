/**
 * Node-Media-Server v4 conformance: the notify body of src/server/notify_server.js, posted like NMS posts it
 * (fetch with a string body, no Content-Type set by NMS), and the answer NMS acts on (exactly 200 keeps the
 * session, anything else makes it call session.close()). Kick, sync and the JWT login run against the real
 * server in test/e2e/nms.test.ts; the fake here only counts logins.
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

  it('admits prePublish then postPublish (4.3/4.4 send both) as one session', async () => {
    const token = u.sign({ stream: 'live/cam', account: 'studio', action: 'publish' });
    for (const action of ['prePublish', 'postPublish']) {
      expect((await send(notify({ id: 'pubsess0001', action, name: 'cam', query: { tkn: token } }))).status).toBe(200);
    }
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

});

describe('Node-Media-Server API login (fake: counts logins)', () => {
  let u: TestUsher;
  let fake: FakeNms;

  beforeAll(async () => {
    fake = await new FakeNms(ACCOUNT).start();
    fake.password = 'changed-on-the-server';
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'nms1', type: 'nms', api: fake.url, ...ACCOUNT, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('a refused login leaves kicks `killing` and is not retried at once (NMS locks out after 5 failures)', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'zoe' });
    const ids = ['lock0001', 'lock0002', 'lock0003'];
    for (const id of ids) expect((await hook(u, '/hooks/nms?server=nms1', { body: notify({ id, action: 'postPlay', query: { tkn: token }, ip: `::ffff:10.9.0.${id.at(-1)}:5000` }) })).status).toBe(200);
    for (const id of ids) {
      const s = (await byClient(u, 'nms1', id))!;
      const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
      expect([k.status, k.body.status]).toEqual([202, 'killing']);
    }
    const logins = fake.calls('/api/v1/login', 'POST');
    expect(logins).toHaveLength(1);
    expect(JSON.parse(logins[0].body)).toEqual({ username: ACCOUNT.user, password: ACCOUNT.password });
  });
});
