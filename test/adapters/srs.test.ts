/**
 * SRS conformance: the http_hooks JSON bodies of srs_app_http_hooks.cpp (example from the reference), the answers
 * `do_post` accepts (HTTP 200 + body `0`) or refuses (a non-zero code), and the HTTP API for kick and sync.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeSrs } from '../fakes/srs.js';
import { byClient, hook, waitStatus } from './kit.js';

const common = { server_id: 'vid-werty', service_id: 'f3k4sy9z', ip: '192.168.1.10', vhost: '__defaultVhost__', app: 'live' };
const onConnect = (clientId: string) => ({ ...common, action: 'on_connect', client_id: clientId, stream: 'livestream', param: '', tcUrl: 'rtmp://x/live', pageUrl: '' });
const onPlay = (clientId: string, param: string, extra: Record<string, unknown> = {}) => ({
  ...common, action: 'on_play', client_id: clientId, stream: 'livestream', tcUrl: 'rtmp://x/live', param, pageUrl: '',
  stream_url: '/live/livestream', stream_id: 'vid-124q9y3', ...extra,
});
const onPublish = (clientId: string, param: string) => ({
  ...common, action: 'on_publish', client_id: clientId, stream: 'livestream', tcUrl: 'rtmp://x/live', param,
  stream_url: '/live/livestream', stream_id: 'vid-124q9y3',
});
const onStop = (clientId: string, action = 'on_stop') => ({
  ...common, action, client_id: clientId, stream: 'livestream', tcUrl: 'rtmp://x/live', param: '', stream_url: '/live/livestream', stream_id: 'vid-124q9y3',
});

describe('SRS http_hooks', () => {
  let u: TestUsher;
  let fake: FakeSrs;
  // SRS's own HTTP client posts JSON
  const send = (b: object) => hook(u, '/hooks/srs?server=srs1', { body: JSON.stringify(b), headers: { 'content-type': 'application/json' } });

  beforeAll(async () => {
    fake = await new FakeSrs().start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'srs1', type: 'srs', api: fake.url, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('reads the token from param, a `?` left on stream or app (SRS 2/3), or the tcUrl query (connect-level args)', async () => {
    const token = (n: string) => u.sign({ stream: `live/${n}`, account: 'studio', action: 'publish' });
    const shapes: Array<[string, Record<string, unknown>]> = [
      ['s1', { param: '', tcUrl: `rtmp://x/live?token=${token('s1')}` }],
      ['s2', { param: '', stream: `s2?token=${token('s2')}` }],
      ['s3', { param: '', app: `live?token=${token('s3')}`, tcUrl: 'rtmp://x/live' }],
      ['s4', { param: `?token=${token('s4')}`, tcUrl: 'rtmp://x/live?token=forged' }],
    ];
    for (const [name, extra] of shapes) {
      const r = await send({ ...onPublish(`pub-${name}`, ''), stream: name, ...extra });
      expect([name, r.status, r.body]).toEqual([name, 200, '0']);
      expect(await byClient(u, 'srs1', `pub-${name}`)).toMatchObject({ stream: `live/${name}`, kind: 'input', account: 'studio' });
    }
    const forged = await send({ ...onPublish('pub-s5', ''), stream: 's5', tcUrl: 'rtmp://x/live?token=forged' });
    expect(JSON.parse(forged.body)).toMatchObject({ code: 403 });
  });

  it('answers on_connect with 200 and body 0', async () => {
    const r = await send(onConnect('9308h583'));
    expect(r.status).toBe(200);
    expect(r.body).toBe('0');
  });

  it('admits on_publish / on_play with the token in `param` and answers 0; on_stop / on_unpublish end them', async () => {
    const pubToken = u.sign({ stream: 'live/livestream', account: 'studio', action: 'publish' });
    const p = await send(onPublish('pub-1', `?token=${pubToken}&salt=yyy`));
    expect(p.status).toBe(200);
    expect(p.body).toBe('0');
    const pub = await byClient(u, 'srs1', 'pub-1');
    expect(pub).toMatchObject({ kind: 'input', status: 'active', stream: 'live/livestream', ip: '192.168.1.10', protocol: 'rtmp' });

    const token = u.sign({ stream: 'live/livestream', account: 'alice' });
    const r = await send(onPlay('9308h583', `?tkn=${token}`));
    expect(r.status).toBe(200);
    expect(r.body).toBe('0');
    const play = (await byClient(u, 'srs1', '9308h583'))!;
    expect(play).toMatchObject({ kind: 'viewer', status: 'active', account: 'alice' });

    const stop = await send(onStop('9308h583'));
    expect([stop.status, stop.body]).toEqual([200, '0']);
    const close = await send({ ...common, action: 'on_close', client_id: '9308h583', send_bytes: 1234, recv_bytes: 56 });
    expect([close.status, close.body]).toEqual([200, '0']);
    await waitStatus(u, play.id, 'ended');
    expect((await send(onStop('pub-1', 'on_unpublish'))).body).toBe('0');
    await waitStatus(u, pub!.id, 'ended');
  });

  it('records the bytes of on_close when it is the connection\'s only close event', async () => {
    const token = u.sign({ stream: 'live/livestream', account: 'bea' });
    expect((await send(onPlay('srt-7', `?tkn=${token}`, { tcUrl: 'srt://x/live' }))).body).toBe('0');
    const s = (await byClient(u, 'srs1', 'srt-7'))!;
    expect(s.protocol).toBe('srt');
    await send({ ...common, action: 'on_close', client_id: 'srt-7', send_bytes: 4096, recv_bytes: 77 });
    const ended = await waitStatus(u, s.id, 'ended');
    expect([ended.bytesIn, ended.bytesOut]).toEqual([77, 4096]);
  });

  it('refuses with HTTP 200 and a non-zero code (403 forbidden, 401 credentials missing)', async () => {
    const bad = await send(onPlay('c-bad', '?token=nope'));
    expect(bad.status).toBe(200);
    const b = JSON.parse(bad.body) as { code: number; msg: string };
    expect(b.code).toBe(403);
    expect(b.msg).toMatch(/^E_TOKEN_INVALID: /);
    const none = JSON.parse((await send(onPlay('c-none', ''))).body) as { code: number };
    expect(none.code).toBe(401);
  });

  it('kicks with DELETE /api/v1/clients/{id}; code 2049 (already gone) also completes the kick', async () => {
    const token = u.sign({ stream: 'live/livestream', account: 'carl' });
    expect((await send(onPlay('kick-1', `?tkn=${token}`))).body).toBe('0');
    fake.clients.push({ id: 'kick-1', url: '/live/livestream', name: 'livestream', ip: '192.168.1.10', type: 'rtmp-play', publish: false });
    const s = (await byClient(u, 'srs1', 'kick-1'))!;
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    expect(fake.calls('/api/v1/clients/kick-1', 'DELETE')).toHaveLength(1);

    const token2 = u.sign({ stream: 'live/livestream', account: 'cleo' });
    expect((await send(onPlay('kick-2', `?tkn=${token2}`))).body).toBe('0');
    const s2 = (await byClient(u, 'srs1', 'kick-2'))!;
    const k2 = await u.api('DELETE', `/v1/sessions/${s2.id}`); // the fake does not have it: {"code":2049}
    expect([k2.status, k2.body.status]).toEqual([200, 'killed']);
  });

  it('keeps a kick `killing` while the API is down and completes it when it is back', async () => {
    const token = u.sign({ stream: 'live/livestream', account: 'dora' });
    expect((await send(onPlay('kick-3', `?tkn=${token}`))).body).toBe('0');
    fake.clients.push({ id: 'kick-3', url: '/live/livestream', name: 'livestream', ip: '192.168.1.10', type: 'flv-play', publish: false });
    const s = (await byClient(u, 'srs1', 'kick-3'))!;
    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([202, 'killing']);
    await fake.start();
    await waitStatus(u, s.id, 'killed');
    expect(fake.clients.find((c) => c.id === 'kick-3')).toBeUndefined();
  });
});

describe('SRS sync', () => {
  let u: TestUsher;
  let fake: FakeSrs;

  beforeAll(async () => {
    fake = await new FakeSrs().start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, auth: { anonymousPlay: true }, servers: [{ name: 'srs1', type: 'srs', api: fake.url, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('always passes count; ends what SRS lost; admits an anonymous player, kicks an unknown publisher', async () => {
    const token = u.sign({ stream: 'live/livestream', account: 'eve' });
    const r = await hook(u, '/hooks/srs', { body: JSON.stringify(onPlay('gone-1', `?tkn=${token}`)), headers: { 'content-type': 'application/json' } });
    expect(r.body).toBe('0');
    const gone = (await byClient(u, 'srs1', 'gone-1'))!;
    fake.clients = [
      { id: 'new-play', url: '/live/livestream', name: 'livestream', ip: '10.0.0.8', type: 'rtmp-play', publish: false },
      { id: 'new-pub', vhost: 'example.com', url: 'example.com/live/other', name: 'other', ip: '10.0.0.9', type: 'fmle-publish', publish: true },
    ];
    const s = await u.api('POST', '/v1/servers/srs1/sync');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ listed: 2, ended: 1, admitted: 1, kicked: 1 });
    await waitStatus(u, gone.id, 'ended');
    expect(await byClient(u, 'srs1', 'new-play')).toMatchObject({ status: 'active', stream: 'live/livestream', ip: '10.0.0.8' });
    expect(fake.calls('/api/v1/clients/new-pub', 'DELETE')).toHaveLength(1);
    const lists = fake.calls('/api/v1/clients/', 'GET');
    expect(lists.length).toBeGreaterThan(0);
    for (const l of lists) expect(l.query.get('count')).toBe('500');
  });
});
