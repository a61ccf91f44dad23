/**
 * One account, several servers, one count: a plan limited to one screen admits the first play on nginx-rtmp and
 * refuses a second device of the same account on MediaMTX (and SRS), each in that server's own refusal form.
 * When the first screen leaves, the slot is free again on any server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { byClient, hook, waitStatus } from './kit.js';

describe('the same account counted across servers', () => {
  let u: TestUsher;

  beforeAll(async () => {
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      plans: { default: { maxSessions: 1 } },
      servers: [
        { name: 'edge1', type: 'nginx-rtmp' },
        { name: 'mtx1', type: 'mediamtx' },
        { name: 'srs1', type: 'srs' },
      ],
    });
  });
  afterAll(async () => u.stop());

  const nginx = (call: string, clientid: string, token: string) => hook(u, '/hooks/nginx-rtmp?server=edge1', {
    body: `app=live&flashver=LNX%209,0,124,2&swfurl=&tcurl=rtmp://127.0.0.1/live&pageurl=&addr=10.0.0.1&clientid=${clientid}&call=${call}&name=demo&tkn=${token}`,
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  const mediamtx = (id: string, token: string) => hook(u, '/hooks/mediamtx?server=mtx1', {
    body: JSON.stringify({ ip: '10.0.0.2', user: '', password: '', token: '', action: 'read', path: 'live/demo', protocol: 'rtsp', id, query: `tkn=${token}`, userAgent: 'ffmpeg' }),
    headers: { 'content-type': 'application/json' },
  });

  it('refuses the second screen on another server, then admits it once the first has left', async () => {
    const tv = u.sign({ stream: 'live/demo', account: 'alice', device: 'tv' });
    const phone = u.sign({ stream: 'live/demo', account: 'alice', device: 'phone' });
    const tablet = u.sign({ stream: 'live/demo', account: 'alice', device: 'tablet' });

    expect((await nginx('play', '7', tv)).status).toBe(200);
    const first = (await byClient(u, 'edge1', '7'))!;
    expect(first).toMatchObject({ status: 'active', account: 'alice', device: 'tv' });

    const r = await mediamtx('aaaaaaaa-bbbb-4ccc-8ddd-000000000001', phone);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_LIMIT_REACHED: /);
    expect(await byClient(u, 'mtx1', 'aaaaaaaa-bbbb-4ccc-8ddd-000000000001')).toMatchObject({ status: 'denied', reason: 'E_LIMIT_REACHED', device: 'phone' });

    const srs = await hook(u, '/hooks/srs?server=srs1', {
      body: JSON.stringify({ action: 'on_play', client_id: 'srs-c1', ip: '10.0.0.3', vhost: '__defaultVhost__', app: 'live', stream: 'demo', tcUrl: 'rtmp://x/live', param: `?tkn=${tablet}`, pageUrl: '' }),
      headers: { 'content-type': 'application/json' },
    });
    expect(srs.status).toBe(200);
    expect(JSON.parse(srs.body)).toMatchObject({ code: 403 });

    // the first screen leaves: the slot is free on any server (E_LIMIT_REACHED is not remembered as a ban)
    expect((await nginx('play_done', '7', tv)).status).toBe(200);
    await waitStatus(u, first.id, 'ended');
    expect((await mediamtx('aaaaaaaa-bbbb-4ccc-8ddd-000000000002', phone)).status).toBe(200);
  });
});
