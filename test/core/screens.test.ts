/**
 * Screens and slots (SPEC §2) and replacements (SPEC §3.4), end to end over real HTTP: connection-held sessions come
 * through the nginx-rtmp hook (play / play_done as nginx sends them), connectionless ones through POST /v1/admission.
 * The inputs are issue 7 §2's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startUsher, type TestUsher } from '../helpers/usher.js';

describe('screens and slots', () => {
  let u: TestUsher;
  let nextClient = 100;
  const hook = async (fields: Record<string, string>): Promise<number> => {
    const res = await fetch(`${u.url}/hooks/nginx-rtmp`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields).toString(),
    });
    await res.text();
    return res.status;
  };
  /** A player on nginx-rtmp: play → the answer; stop() sends play_done for the same client id. */
  const play = async (stream: string, token: string, ip = '10.0.0.5'): Promise<{ status: number; stop: () => Promise<number> }> => {
    const clientid = String(nextClient++);
    const [app, name] = stream.split('/');
    const base = { app, name, addr: ip, clientid, flashver: 'LNX 9,0,124,2', tcurl: `rtmp://127.0.0.1/${app}` };
    const status = await hook({ ...base, call: 'play', tkn: token });
    return { status, stop: () => hook({ ...base, call: 'play_done', tkn: token }) };
  };
  const admit = (body: Record<string, unknown>) => call(u.url, 'POST', '/v1/admission', { action: 'play', ...body });

  beforeAll(async () => {
    u = await startUsher({
      plans: {
        one: { maxSessions: 1 },
        oneKill: { maxSessions: 1, onLimit: 'killOldest' },
      },
    });
  });
  afterAll(async () => {
    await u.stop();
  });

  it('a device that stopped one stream starts another at once (the stopped session holds no slot)', async () => {
    const token = u.sign({ stream: 'live/*', account: 'ch1', plan: 'one', device: 'tv' });
    const demo = await play('live/demo', token);
    expect(demo.status).toBe(200);
    expect(await demo.stop()).toBe(200);
    const news = await play('live/news', token);
    expect(news.status).toBe(200);
  });

  it('the same device playing two streams side by side is one screen', async () => {
    const token = u.sign({ stream: 'live/*', account: 'ch2', plan: 'one', device: 'tv' });
    expect((await play('live/a', token)).status).toBe(200);
    expect((await play('live/b', token)).status).toBe(200);
    const phone = await play('live/a', u.sign({ stream: 'live/*', account: 'ch2', plan: 'one', device: 'phone' }));
    expect(phone.status).toBe(403);
    expect((await u.api('GET', '/v1/accounts/ch2')).body).toMatchObject({ live: 2 });
  });

  it('two devices: the tv stops, the phone starts within the timeout and is admitted', async () => {
    const tv = await play('live/c', u.sign({ stream: 'live/*', account: 'ch3', plan: 'one', device: 'tv' }));
    expect(tv.status).toBe(200);
    expect(await tv.stop()).toBe(200);
    expect((await play('live/c', u.sign({ stream: 'live/*', account: 'ch3', plan: 'one', device: 'phone' }))).status).toBe(200);
    // the tv's session lingers (its key would rejoin it) but is not counted
    const tvs = (await u.api('GET', '/v1/sessions?account=ch3&status=active')).body.items as Array<{ device: string }>;
    expect(tvs.map((s) => s.device).sort()).toEqual(['phone', 'tv']);
  });

  it('killOldest: a replaced session\'s key is not denied — the viewer can switch back at once', async () => {
    const tv = u.sign({ stream: 'live/*', account: 'ch4', plan: 'oneKill', device: 'tv' });
    const phone = u.sign({ stream: 'live/*', account: 'ch4', plan: 'oneKill', device: 'phone' });
    const first = await admit({ stream: 'live/demo', token: tv });
    expect(first.status).toBe(200);
    const second = await admit({ stream: 'live/news', token: phone });
    expect(second.status).toBe(200);
    expect((await u.api('GET', `/v1/sessions/${first.body.sessionId}`)).body).toMatchObject({ status: 'killed', reason: 'replaced' });
    const back = await admit({ stream: 'live/demo', token: tv });
    expect(back.status).toBe(200);
    expect(back.body.allow).toBe(true);
    expect((await u.api('GET', `/v1/sessions/${second.body.sessionId}`)).body).toMatchObject({ status: 'killed', reason: 'replaced' });
  });

  it('killOldest with one device: a second stream on the same screen replaces nothing', async () => {
    const tv = u.sign({ stream: 'live/*', account: 'ch5', plan: 'oneKill', device: 'tv' });
    const demo = await admit({ stream: 'live/demo', token: tv });
    const news = await admit({ stream: 'live/news', token: tv });
    expect([demo.status, news.status]).toEqual([200, 200]);
    expect((await u.api('GET', `/v1/sessions/${demo.body.sessionId}`)).body.status).toBe('active');
    // and the first key again joins its own live session
    const again = await admit({ stream: 'live/demo', token: tv });
    expect(again.body.sessionId).toBe(demo.body.sessionId);
  });

  it('an explicit end frees the slot at once', async () => {
    const a = await admit({ stream: 'live/x', token: u.sign({ stream: 'live/*', account: 'ch6', plan: 'one', device: 'tv' }) });
    const phone = u.sign({ stream: 'live/*', account: 'ch6', plan: 'one', device: 'phone' });
    expect((await admit({ stream: 'live/x', token: phone })).body.code).toBe('E_LIMIT_REACHED');
    expect((await call(u.url, 'POST', `/v1/sessions/${a.body.sessionId}/end`)).status).toBe(200);
    expect((await admit({ stream: 'live/x', token: phone })).status).toBe(200);
  });

  it('invalidation counts screens as admission does: a stopped screen does not make the playing one over the limit', async () => {
    const tv = await play('inv/a', u.sign({ stream: 'inv/*', account: 'ch7', plan: 'one', device: 'tv' }));
    expect(await tv.stop()).toBe(200);
    const phone = await play('inv/a', u.sign({ stream: 'inv/*', account: 'ch7', plan: 'one', device: 'phone' }));
    expect(phone.status).toBe(200);
    const r = await u.api('POST', '/v1/sessions/invalidate', { stream: 'inv/a' });
    expect(r.body).toMatchObject({ checked: 2, killed: [] });
  });

  it('invalidation over a lowered limit: deny keeps the screens that came first, killOldest keeps the newest', async () => {
    const ids: Record<string, string[]> = { one: [], oneKill: [] };
    for (const plan of ['one', 'oneKill'] as const) {
      for (const device of ['tv', 'phone']) {
        const a = await admit({ stream: `lim/${plan}`, token: u.sign({ stream: `lim/${plan}`, account: `acc-${plan}`, device }) });
        expect(a.status).toBe(200);
        ids[plan].push(a.body.sessionId);
      }
      // the plan came from the account's record, set after both were admitted
    }
    await u.api('PUT', '/v1/accounts/acc-one', { plan: 'one' });
    await u.api('PUT', '/v1/accounts/acc-oneKill', { plan: 'oneKill' });
    const r = await u.api('POST', '/v1/sessions/invalidate', {});
    const killed = (r.body.killed as Array<{ id: string; code: string }>).filter((k) => [...ids.one, ...ids.oneKill].includes(k.id));
    expect(killed.sort((x, y) => x.id.localeCompare(y.id))).toEqual([
      { id: ids.one[1], code: 'E_LIMIT_REACHED' }, // deny: the newer screen goes
      { id: ids.oneKill[0], code: 'E_LIMIT_REACHED' }, // killOldest: the older one goes
    ].sort((x, y) => x.id.localeCompare(y.id)));
  });
});
