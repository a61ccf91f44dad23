/**
 * nginx-rtmp: every place the client's credential can reach a notify call, both notify methods, the hook URL's
 * `server=` against a client's, and nginx's own relay legs. Bodies are the ones a real nginx 1.22.1 +
 * libnginx-mod-rtmp 1.2.2 (Debian 12) sent, captured with ffmpeg 5.1 (only ports and tokens swapped).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverParam } from '../../src/adapters/hub.js';
import { notifyString, parseNotify } from '../../src/adapters/nginx-rtmp.js';
import { startUsher, type TestUsher } from '../helpers/usher.js';
import { byClient, hook, sessions } from './kit.js';

// ffmpeg -rtmp_app "live?tkn=T" -rtmp_playpath ngx rtmp://127.0.0.1:19355/  (OBS: server rtmp://host/live?tkn=T, key ngx)
const OBS_PUBLISH = (t: string, id = '1', name = 'ngx') => `app=live&flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27&swfurl=&tcurl=rtmp://127.0.0.1:19355/live%3Ftkn=${t}&pageurl=&addr=127.0.0.1&clientid=${id}&call=publish&name=${name}&type=live`;
// `push rtmp://127.0.0.1:19355/relay;` in application live: the local leg nginx creates plays the source
const RELAY_PLAY = (id = '3', name = 'ngx') => `app=&flashver=ngx-local-relay&swfurl=&tcurl=&pageurl=&addr=127.0.0.1:19355/relay&clientid=${id}&call=play&name=${name}&start=0&duration=0&reset=0`;
const RELAY_UPDATE = (id = '3', name = 'ngx') => `app=&flashver=ngx-local-relay&swfurl=&tcurl=&pageurl=&addr=127.0.0.1:19355/relay&clientid=${id}&call=update_play&time=2&timestamp=1600&name=${name}`;
// ... and its remote leg arrives at application relay as an ordinary publisher (from nginx's own address)
const REMOTE_LEG = (id = '4', args = '') => `app=relay&flashver=LNX.11,1,102,55&swfurl=&tcurl=rtmp://127.0.0.1:19355/relay&pageurl=&addr=127.0.0.1&clientid=${id}&call=publish&name=ngx&type=live${args}`;
// notify_method get, hook URL http://…/hooks/nginx-rtmp?server=edge1, client URL rtmp://…/getm/s1?tkn=A&server=evil
const GET_QUERY = (t: string) => `server=edge1?app=getm&flashver=FMLE/3.0%20(compatible%3B%20Lavf59.27&swfurl=&tcurl=rtmp://127.0.0.1:19355/getm&pageurl=&addr=127.0.0.1&clientid=15&call=publish&name=s1&type=live&tkn=${t}&server=evil`;

describe('nginx-rtmp notify shapes (pure)', () => {
  it('reads connect-level args from tcurl, after the stream-level ones', () => {
    expect(parseNotify(OBS_PUBLISH('T')).query).toBe('tkn=T');
    const both = parseNotify(`${OBS_PUBLISH('CONNECT')}&tkn=STREAM`);
    expect(new URLSearchParams(both.query).get('tkn')).toBe('STREAM');
    expect(both.fields.get('tcurl')).toBe('rtmp://127.0.0.1:19355/live?tkn=CONNECT');
  });

  it('cuts a `?…` left on name or app (older builds and forks) into the client query', () => {
    const n = parseNotify('app=live%3Ftkn=A&flashver=x&tcurl=rtmp://h/live&addr=1.2.3.4&clientid=2&call=play&name=demo%3Ftoken=B');
    expect([n.fields.get('app'), n.fields.get('name')]).toEqual(['live', 'demo']);
    expect(n.query).toBe('token=B&tkn=A');
  });

  it('does not read swfurl/pageurl: a web page query is not the stream credential', () => {
    const n = parseNotify('app=live&flashver=x&swfurl=http://p/s.swf%3Ftkn=S&tcurl=rtmp://h/live&pageurl=http://p/%3Ftkn=P&addr=1.2.3.4&clientid=2&call=play&name=d');
    expect(n.query).toBe('');
  });

  it('rebuilds the GET notify string from after the hook URL\'s own query; a URL without one is all nginx', () => {
    const q = new URLSearchParams(GET_QUERY('A'));
    const n = parseNotify(notifyString({ method: 'GET', query: q, body: Buffer.alloc(0) }));
    expect([n.fields.get('app'), n.fields.get('name'), n.fields.get('clientid')]).toEqual(['getm', 's1', '15']);
    expect(n.query).toBe('tkn=A&server=evil');
    const bare = new URLSearchParams(GET_QUERY('A').replace('server=edge1?', ''));
    expect(parseNotify(notifyString({ method: 'GET', query: bare, body: Buffer.alloc(0) })).fields.get('app')).toBe('getm');
  });

  it('takes the server name only from the hook URL\'s first parameter, cut at `?`', () => {
    expect(serverParam(new URLSearchParams(GET_QUERY('A')))).toBe('edge1');
    expect(serverParam(new URLSearchParams('app=live&name=x&server=evil'))).toBeNull();
    expect(serverParam(new URLSearchParams('server=mtx1&id=5'))).toBe('mtx1');
  });
});

describe('nginx-rtmp notify shapes (through Usher)', () => {
  let u: TestUsher;
  const send = (body: string, server = 'edge1') => hook(u, `/hooks/nginx-rtmp?server=${server}`, {
    body, headers: { 'content-type': 'application/x-www-form-urlencoded', connection: 'Close' },
  });

  beforeAll(async () => {
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      plans: { default: { maxSessions: 1 } },
      // two servers of one type: every hook must name its server, and a client must not be able to pick one
      servers: [{ name: 'edge1', type: 'nginx-rtmp', api: '' }, { name: 'edge2', type: 'nginx-rtmp', api: '' }],
    });
  });
  afterAll(async () => {
    await u.stop();
  });

  it('admits an OBS-style publisher whose token is on the application (tcurl only)', async () => {
    const t = u.sign({ stream: 'live/ngx', account: 'studio', action: 'publish' });
    const r = await send(OBS_PUBLISH(t));
    expect(r.status).toBe(200);
    expect(await byClient(u, 'edge1', '1')).toMatchObject({ kind: 'input', status: 'active', stream: 'live/ngx', account: 'studio' });
  });

  it('refuses the same call with a forged tcurl token', async () => {
    const r = await send(OBS_PUBLISH('forged', '2', 'other'));
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_TOKEN_INVALID/);
  });

  it('with notify_method get, the hook URL picks the server and the client\'s `server=` is ignored', async () => {
    const t = u.sign({ stream: 'getm/s1', account: 'studio', action: 'publish' });
    const res = await fetch(`${u.url}/hooks/nginx-rtmp?${GET_QUERY(t)}`, { signal: AbortSignal.timeout(5000) });
    expect(res.status).toBe(200);
    expect(await byClient(u, 'edge1', '15')).toMatchObject({ server: 'edge1', stream: 'getm/s1', kind: 'input' });
    expect(await byClient(u, 'edge2', '15')).toBeUndefined();
    // a hook URL without ?server= cannot be completed by the client's own `server=` (several servers: refused)
    const bare = await fetch(`${u.url}/hooks/nginx-rtmp?${GET_QUERY(t).replace('server=edge1?', '').replace('clientid=15', 'clientid=16')}`);
    expect(bare.status).toBe(400);
    expect((await bare.json()).code).toBe('E_SERVER_UNKNOWN');
  });

  it('records nginx\'s push relay as an output of the source stream, counted against no plan', async () => {
    const r = await send(RELAY_PLAY());
    expect(r.status).toBe(200);
    const relay = await byClient(u, 'edge1', '3');
    expect(relay).toMatchObject({ kind: 'output', status: 'active', stream: 'live/ngx', account: null, ip: '127.0.0.1', userAgent: 'ngx-local-relay' });
    expect((await send(RELAY_UPDATE())).status).toBe(200);
    // the plan allows one screen: the account's viewer still gets in beside the relay
    const v = u.sign({ stream: 'live/ngx', account: 'studio', device: 'tv' });
    expect((await send(`app=live&flashver=LNX%209,0,124,2&swfurl=&tcurl=rtmp://127.0.0.1:19355/live&pageurl=&addr=10.1.1.1&clientid=9&call=play&name=ngx&start=0&duration=0&reset=0&tkn=${v}`)).status).toBe(200);
  });

  it('refuses a client that forges the relay flashver (it has an application) and a relay of nothing live', async () => {
    const forged = RELAY_PLAY('20').replace('app=&', 'app=live&').replace('tcurl=&', 'tcurl=rtmp://127.0.0.1:19355/live&').replace('addr=127.0.0.1:19355/relay', 'addr=10.6.6.6');
    const r = await send(forged);
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/^E_CREDENTIALS_REQUIRED/);
    // refused as the viewer it is (a credentials challenge is not recorded), never admitted as a relay
    expect(await byClient(u, 'edge1', '20')).toBeUndefined();
    const orphan = await send(RELAY_PLAY('21', 'nothing-live'));
    expect(orphan.status).toBe(404);
    expect(await byClient(u, 'edge1', '21')).toBeUndefined();
  });

  it('admits the relay\'s remote leg with the token given in the push URL, refuses it without', async () => {
    expect((await send(REMOTE_LEG('4'))).status).toBe(403);
    const t = u.sign({ stream: 'relay/ngx', account: 'studio', action: 'publish', ttlSeconds: 86400 });
    expect((await send(REMOTE_LEG('5', `&tkn=${t}`))).status).toBe(200);
    expect(await byClient(u, 'edge1', '5')).toMatchObject({ kind: 'input', stream: 'relay/ngx' });
    expect((await sessions(u, 'kind=output')).map((s) => s.clientId)).toEqual(['3']);
  });
});
