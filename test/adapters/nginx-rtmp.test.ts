/**
 * nginx-rtmp conformance: the exact bodies a real nginx 1.22 + libnginx-mod-rtmp sent (fixtures captured from
 * it), replayed byte for byte (only the token value is swapped for a real Usher token), and the answers nginx
 * acts on. Kick and sync run against a fake of the control/stat HTTP side.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { FakeNginx } from '../fakes/nginx-rtmp.js';
import { byClient, hook, sessions, waitStatus } from './kit.js';

interface Captured {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const captured: Captured[] = readFileSync(new URL('./fixtures/nginx-rtmp-hooks.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Captured);
const byCall = (call: string, app = 'live'): Captured => {
  const c = captured.find((x) => new URLSearchParams(x.body).get('call') === call && x.body.startsWith(`app=${app}&`));
  if (!c) throw new Error(`no captured ${call}`);
  return c;
};

// From the fixture README (the player was ffmpeg 5.1 with a `?token=viewer1&sid=42` URL).
const PLAY_BODY = 'app=live&flashver=LNX%209,0,124,2&swfurl=&tcurl=rtmp://127.0.0.1:19350/live&pageurl=&addr=127.0.0.1&clientid=11&call=play&name=test&start=4294965296&duration=0&reset=0&token=viewer1&sid=42';
const PLAY_DONE_BODY = 'app=live&flashver=LNX%209,0,124,2&swfurl=&tcurl=rtmp://127.0.0.1:19350/live&pageurl=&addr=127.0.0.1&clientid=11&call=play_done&name=test&token=viewer1&sid=42';

describe('nginx-rtmp hooks (captured bodies)', () => {
  let u: TestUsher;
  let fake: FakeNginx;
  const HOOK = '/hooks/nginx-rtmp?server=edge1';
  // nginx sends exactly these headers (no User-Agent; Host without port)
  const send = (body: string) => hook(u, HOOK, {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'Close' },
  });

  beforeAll(async () => {
    fake = await new FakeNginx().start();
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      servers: [{ name: 'edge1', type: 'nginx-rtmp', api: fake.url, timeoutMs: 1000 }],
    });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('answers on_connect 200 without creating a session', async () => {
    const r = await send(byCall('connect').body);
    expect(r.status).toBe(200);
    expect(await sessions(u)).toHaveLength(0);
  });

  it('admits a publish with a valid token, refreshes it on update, ends it after publish_done/done', async () => {
    const token = u.sign({ stream: 'live/stat1', account: 'studio', action: 'publish' });
    const swap = (b: string) => b.replace('token=abc', `token=${token}`);
    const pub = await send(swap(byCall('publish').body));
    expect(pub.status).toBe(200);
    const s = await byClient(u, 'edge1', '27');
    expect(s).toMatchObject({ kind: 'input', status: 'active', stream: 'live/stat1', server: 'edge1', protocol: 'rtmp', ip: '127.0.0.1', account: 'studio' });
    expect(s!.userAgent).toBe('FMLE/3.0 (compatible; Lavf59.27');

    const updates = captured.filter((c) => c.body.includes('call=update_publish'));
    expect(updates.length).toBeGreaterThan(0);
    for (const c of updates) expect((await send(swap(c.body))).status).toBe(200);

    expect((await send(swap(byCall('publish_done').body))).status).toBe(200);
    expect((await send(swap(byCall('done').body))).status).toBe(200);
    await waitStatus(u, s!.id, 'ended');
  });

  it('refuses a publish with a bad token with 403 and counts the denial (a token nobody signed names nobody: no row)', async () => {
    const deny = byCall('publish', 'deny');
    const r = await send(deny.body);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_TOKEN_INVALID: /);
    expect(await byClient(u, 'edge1', '24')).toBeUndefined();
    const counts = (await u.api('GET', '/v1/denials')).body.items as Array<{ source: string; code: string; count: number }>;
    expect(counts.find((c) => c.source === 'edge1/127.0.0.1' && c.code === 'E_TOKEN_INVALID')?.count).toBeGreaterThanOrEqual(1);
  });

  it('admits a play (client args arrive as extra fields) and ends it after play_done', async () => {
    const token = u.sign({ stream: 'live/test', account: 'alice', device: 'tv' });
    const r = await send(PLAY_BODY.replace('token=viewer1', `token=${token}`));
    expect(r.status).toBe(200);
    const s = await byClient(u, 'edge1', '11');
    expect(s).toMatchObject({ kind: 'viewer', status: 'active', stream: 'live/test', account: 'alice', device: 'tv' });
    expect((await send(PLAY_DONE_BODY.replace('token=viewer1', `token=${token}`))).status).toBe(200);
    await waitStatus(u, s!.id, 'ended');
  });

  it('takes nginx fields from their first occurrence; duplicates a client appends cannot steer them', async () => {
    const token = u.sign({ stream: 'live/stat2', account: 'studio', action: 'publish' });
    const body = 'app=live&flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27&swfurl=&tcurl=rtmp://127.0.0.1:19350/live&pageurl=&addr=127.0.0.1'
      + `&clientid=31&call=publish&name=stat2&type=live&tkn=${token}&clientid=999&name=evil&call=play&addr=6.6.6.6`;
    expect((await send(body)).status).toBe(200);
    expect(await byClient(u, 'edge1', '999')).toBeUndefined();
    expect(await byClient(u, 'edge1', '31')).toMatchObject({ kind: 'input', stream: 'live/stat2', ip: '127.0.0.1' });
  });

  it('admits an update for a connection it never saw (Usher was down) by the rules', async () => {
    const token = u.sign({ stream: 'live/late', account: 'bob' });
    const body = `app=live&flashver=LNX%209,0,124,2&swfurl=&tcurl=rtmp://127.0.0.1:19350/live&pageurl=&addr=127.0.0.1&clientid=77&call=update_play&time=4&timestamp=3800&name=late&tkn=${token}`;
    expect((await send(body)).status).toBe(200);
    expect(await byClient(u, 'edge1', '77')).toMatchObject({ status: 'active', stream: 'live/late', kind: 'viewer' });
    const anon = body.replace(`&tkn=${token}`, '').replace('clientid=77', 'clientid=78');
    expect((await send(anon)).status).toBe(403);
  });

  it('refuses an unknown call (fail closed)', async () => {
    const r = await send('app=live&addr=127.0.0.1&clientid=5&call=teleport&name=x');
    expect(r.status).toBe(400);
  });

  it('kicks through rtmp_control drop/client; a later update of that connection is refused', async () => {
    const token = u.sign({ stream: 'live/test', account: 'carol' });
    const body = PLAY_BODY.replace('clientid=11', 'clientid=12').replace('token=viewer1', `token=${token}`);
    expect((await send(body)).status).toBe(200);
    const s = (await byClient(u, 'edge1', '12'))!;
    fake.clients.push({ id: '12', app: 'live', name: 'test', address: '127.0.0.1' });

    const k = await u.api('DELETE', `/v1/sessions/${s.id}`, { reason: 'test kick' });
    expect(k.status).toBe(200);
    expect(k.body.status).toBe('killed');
    const drops = fake.calls('/control/drop/client', 'GET');
    expect(drops.at(-1)!.url).toBe('/control/drop/client?app=live&name=test&clientid=12');
    expect(fake.clients.find((c) => c.id === '12')).toBeUndefined();

    const upd = body.replace('call=play&name=test&start=4294965296&duration=0&reset=0', 'call=update_play&time=2&timestamp=1983&name=test');
    const r = await send(upd);
    expect(r.status).toBe(403);
  });

  it('leaves a kick `killing` while nginx is unreachable, refuses its updates, and finishes once nginx is back', async () => {
    const token = u.sign({ stream: 'live/test', account: 'dave' });
    const body = PLAY_BODY.replace('clientid=11', 'clientid=13').replace('token=viewer1', `token=${token}`);
    expect((await send(body)).status).toBe(200);
    const s = (await byClient(u, 'edge1', '13'))!;
    fake.clients.push({ id: '13', app: 'live', name: 'test', address: '127.0.0.1' });

    await fake.stop();
    const k = await u.api('DELETE', `/v1/sessions/${s.id}`);
    expect(k.status).toBe(202);
    expect(k.body.status).toBe('killing');
    const upd = body.replace('call=play&name=test&start=4294965296&duration=0&reset=0', 'call=update_play&time=2&timestamp=1983&name=test');
    expect((await send(upd)).status).toBe(403);

    const before = fake.calls('/control/drop/client').length;
    await fake.start();
    await waitStatus(u, s.id, 'killed');
    expect(fake.calls('/control/drop/client').length).toBeGreaterThan(before);
    expect(fake.clients.find((c) => c.id === '13')).toBeUndefined();
  });
});

describe('nginx-rtmp sync (rtmp_stat)', () => {
  let u: TestUsher;
  let fake: FakeNginx;
  const send = (body: string) => hook(u, '/hooks/nginx-rtmp?server=edge1', { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  beforeAll(async () => {
    fake = await new FakeNginx().start();
    // anonymous play on: an unknown player is admitted by the rules, an unknown publisher is not
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      auth: { anonymousPlay: true },
      servers: [{ name: 'edge1', type: 'nginx-rtmp', api: fake.url, timeoutMs: 1000 }],
    });
  });
  afterAll(async () => {
    await u.stop();
    await fake.stop();
  });

  it('ends what nginx no longer has, admits or kicks what Usher does not know, and admits relays as outputs', async () => {
    const token = u.sign({ stream: 'live/x', account: 'erin' });
    expect((await send(`app=live&flashver=LNX&addr=10.0.0.1&clientid=41&call=play&name=x&start=0&duration=0&reset=0&tkn=${token}`)).status).toBe(200);
    const gone = (await byClient(u, 'edge1', '41'))!;
    fake.clients = [
      { id: '50', app: 'live', name: 'x', address: '10.0.0.5' },
      { id: '51', app: 'live', name: 'x', address: '10.0.0.6', publishing: true },
      { id: '52', app: 'live', name: 'x', address: '127.0.0.1:1935/relay', flashver: 'ngx-local-relay' },
    ];
    const r = await u.api('POST', '/v1/servers/edge1/sync');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ server: 'edge1', listed: 3, ended: 1, admitted: 2, kicked: 1 });
    expect(await byClient(u, 'edge1', '52')).toMatchObject({ status: 'active', kind: 'output', stream: 'live/x', ip: '127.0.0.1', account: null });

    await waitStatus(u, gone.id, 'ended');
    expect(await byClient(u, 'edge1', '50')).toMatchObject({ status: 'active', kind: 'viewer', stream: 'live/x', ip: '10.0.0.5' });
    const drops = fake.calls('/control/drop/client').map((x) => x.query.get('clientid'));
    expect(drops).toEqual(['51']);
    expect(fake.clients.map((c) => c.id)).toEqual(['50', '52']);
  });

  it('reports an unreachable server as 503 and keeps its sessions', async () => {
    await fake.stop();
    const r = await u.api('POST', '/v1/servers/edge1/sync');
    expect(r.status).toBe(503);
    expect(await byClient(u, 'edge1', '50')).toMatchObject({ status: 'active' });
    const info = await u.api('GET', '/v1/servers');
    expect(info.body.items.find((s: { name: string }) => s.name === 'edge1').lastSyncError).toMatch(/ECONNREFUSED|fetch failed|timed out/);
  });
});
