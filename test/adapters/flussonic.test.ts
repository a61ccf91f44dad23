/**
 * Flussonic conformance: the auth-backend request of flussonic.com/doc/api/authorization (play: GET with query
 * fields; publish: POST with the same fields as JSON), the answers (200 + X-UserId / X-AuthDuration, or 403),
 * event_sink events, and the legacy session API for kick (close_sessions) and sync (sessions).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeFlussonic } from '../fakes/flussonic.js';
import { byClient, hook, waitStatus } from './kit.js';

const API = { user: 'flussonic', password: 'letmein' };

const playQuery = (o: { sid: string; qs: string; token?: string; type?: string; number?: number }) => new URLSearchParams({
  name: 'live/demo', proto: 'hls', ip: '198.51.100.9', request_type: o.type ?? 'new_session', request_number: String(o.number ?? 0),
  session_id: o.sid, stream_clients: '3', total_clients: '10', token: o.token ?? 'a1b2c3autotoken', duration: '0', bytes: '0',
  qs: o.qs, user_agent: 'VLC/3.0.20 LibVLC/3.0.20', referer: '', host: 'fl.example.com',
}).toString();

describe('Flussonic auth backend and events', () => {
  let u: TestUsher;
  let fake: FakeFlussonic;
  const play = (q: string) => hook(u, `/hooks/flussonic?server=fl1&${q}`, { method: 'GET' });

  beforeAll(async () => {
    fake = await new FakeFlussonic(API).start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'fl1', type: 'flussonic', api: fake.url, ...API, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('allows a new_session with 200, X-UserId and X-AuthDuration; update_session refreshes it', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'alice' });
    const sid = '5f1a0000-0000-4000-8000-000000000001';
    const r = await play(playQuery({ sid, qs: `tkn=${token}` }));
    expect(r.status).toBe(200);
    expect(r.headers.get('x-userid')).toBe('alice');
    expect(r.headers.get('x-authduration')).toBe('60');
    expect(r.headers.get('x-max-sessions')).toBeNull();
    expect(await byClient(u, 'fl1', sid)).toMatchObject({ kind: 'viewer', status: 'active', stream: 'live/demo', ip: '198.51.100.9', protocol: 'hls' });

    const up = await play(playQuery({ sid, qs: `tkn=${token}`, type: 'update_session', number: 1 }));
    expect(up.status).toBe(200);
  });

  it('shortens X-AuthDuration to what is left of the token', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'bea', ttlSeconds: 20 });
    const r = await play(playQuery({ sid: '5f1a0000-0000-4000-8000-000000000002', qs: `tkn=${token}` }));
    expect(r.status).toBe(200);
    const d = Number(r.headers.get('x-authduration'));
    expect(d).toBeGreaterThanOrEqual(1);
    expect(d).toBeLessThanOrEqual(20);
  });

  it("refuses with 403; Flussonic's invented token is not taken for a credential when qs has none", async () => {
    const r = await play(playQuery({ sid: '5f1a0000-0000-4000-8000-000000000003', qs: 'foo=bar' }));
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_CREDENTIALS_REQUIRED: /);
    const bad = await play(playQuery({ sid: '5f1a0000-0000-4000-8000-000000000004', qs: 'tkn=forged.token' }));
    expect(bad.status).toBe(403);
    expect(bad.body).toMatch(/^E_TOKEN_INVALID: /);
  });

  it('authorises a publish sent as POST with the fields as JSON', async () => {
    const token = u.sign({ stream: 'live/cam', account: 'studio', action: 'publish' });
    const r = await hook(u, '/hooks/flussonic?server=fl1', {
      body: JSON.stringify({ name: 'live/cam', proto: 'rtmp', ip: '198.51.100.20', request_type: 'new_session', session_id: 'pub-1', qs: `tkn=${token}` }),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(200);
    expect(await byClient(u, 'fl1', 'pub-1')).toMatchObject({ kind: 'input', stream: 'live/cam', protocol: 'rtmp' });
  });

  it('ends a session on the play_closed event (events come as a JSON array)', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'carl' });
    const sid = '5f1a0000-0000-4000-8000-000000000005';
    expect((await play(playQuery({ sid, qs: `tkn=${token}` }))).status).toBe(200);
    const s = (await byClient(u, 'fl1', sid))!;
    const events = [
      { event: 'play_updated', id: sid, media: 'live/demo', ip: '198.51.100.9', proto: 'hls', bytes: 1000 },
      { event: 'play_closed', id: sid, media: 'live/demo', ip: '198.51.100.9', proto: 'hls', bytes: 5000 },
    ];
    const r = await hook(u, '/hooks/flussonic/events?server=fl1', { body: JSON.stringify(events), headers: { 'content-type': 'application/json' } });
    expect([r.status, r.body]).toEqual([200, '{}']);
    const ended = await waitStatus(u, s.id, 'ended');
    expect(ended.bytesOut).toBe(5000);
  });

  it('kicks with close_sessions (Basic auth, ids one per line); a later update_session is refused', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'dora' });
    const sid = '5f1a0000-0000-4000-8000-000000000006';
    expect((await play(playQuery({ sid, qs: `tkn=${token}` }))).status).toBe(200);
    fake.sessions.push({ id: sid, name: 'live/demo', ip: '198.51.100.9' });
    const s = (await byClient(u, 'fl1', sid))!;
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([200, 'killed']);
    const call = fake.calls('/flussonic/api/close_sessions', 'POST').at(-1)!;
    expect(call.body).toBe(`${sid}\n`);
    expect(call.headers.authorization).toBe(`Basic ${Buffer.from('flussonic:letmein').toString('base64')}`);
    expect((await play(playQuery({ sid, qs: `tkn=${token}`, type: 'update_session', number: 2 }))).status).toBe(403);
  });

  it('keeps a kick `killing` while the API is down and completes it when it is back', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'eli' });
    const sid = '5f1a0000-0000-4000-8000-000000000007';
    expect((await play(playQuery({ sid, qs: `tkn=${token}` }))).status).toBe(200);
    const s = (await byClient(u, 'fl1', sid))!;
    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect([k.status, k.body.status]).toEqual([202, 'killing']);
    await fake.start();
    await waitStatus(u, s.id, 'killed');
  });
});

describe('Flussonic sync', () => {
  let u: TestUsher;
  let fake: FakeFlussonic;

  beforeAll(async () => {
    fake = await new FakeFlussonic(API).start();
    u = await startUsher({ sessions: { timeoutSeconds: 1 }, servers: [{ name: 'fl1', type: 'flussonic', api: fake.url, ...API, timeoutMs: 1000 }] });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('ends what Flussonic lost; admits unknown sessions with a valid token, kicks the others', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'fay' });
    const r = await hook(u, `/hooks/flussonic?${playQuery({ sid: 'gone-1', qs: `tkn=${token}` })}`, { method: 'GET' });
    expect(r.status).toBe(200);
    const gone = (await byClient(u, 'fl1', 'gone-1'))!;
    const good = u.sign({ stream: 'live/demo', account: 'gus' });
    fake.sessions = [
      { id: 'new-good', name: 'live/demo', ip: '198.51.100.30', token: good, type: 'hls' },
      { id: 'new-bad', name: 'live/demo', ip: '198.51.100.31', token: 'x9y8z7', type: 'hls' },
    ];
    const s = await u.api('POST', '/v1/servers/fl1/sync');
    expect(s.status).toBe(200);
    expect(s.body).toMatchObject({ listed: 2, ended: 1, admitted: 1, kicked: 1 });
    await waitStatus(u, gone.id, 'ended');
    expect(await byClient(u, 'fl1', 'new-good')).toMatchObject({ status: 'active', account: 'gus' });
    expect(fake.calls('/flussonic/api/close_sessions', 'POST').map((x) => x.body)).toEqual(['new-bad\n']);
  });
});
