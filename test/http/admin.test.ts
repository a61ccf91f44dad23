import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, startUsher, waitFor, type TestUsher } from '../helpers/usher.js';

describe('admin API over real HTTP', () => {
  let u: TestUsher;
  beforeAll(async () => {
    u = await startUsher({
      sessions: { timeoutSeconds: 1 },
      plans: { default: { maxSessions: 0 }, duo: { maxSessions: 2 }, swap: { maxSessions: 1, onLimit: 'killOldest' }, short: { maxSessions: 0, maxDurationSeconds: 1 } },
      streams: { 'capped/*': { maxViewers: 1 } },
    });
  });
  afterAll(async () => u.stop());

  const admit = (o: Record<string, unknown>) => u.api('POST', '/v1/admission', { action: 'play', ip: '10.0.0.9', ...o });

  it('refuses the admin API without the bearer token (401), but not admission', async () => {
    const r = await call(u.url, 'GET', '/v1/sessions');
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('E_UNAUTHORIZED');
    const wrong = await call(u.url, 'GET', '/v1/sessions', undefined, 'not-the-token-at-all');
    expect(wrong.status).toBe(401);
    const a = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: 'x/y' });
    expect(a.status).toBe(403);
    expect(a.body).toMatchObject({ allow: false, code: 'E_CREDENTIALS_REQUIRED' });
  });

  it('bad input → 400 with a code and the field at fault', async () => {
    expect((await admit({ stream: 'a/b', action: 'watch' })).body).toMatchObject({ code: 'E_VALIDATION', field: 'action' });
    expect((await admit({ action: 'play' })).body).toMatchObject({ code: 'E_VALIDATION', field: 'stream' });
    expect((await admit({ stream: 'a/b', bogus: 1 })).body).toMatchObject({ code: 'E_VALIDATION', field: 'bogus' });
    expect((await admit({ stream: 'a/b', server: 'nope' })).body).toMatchObject({ code: 'E_SERVER_UNKNOWN', field: 'server' });
    expect((await u.api('POST', '/v1/admission', '{not json')).body.code).toBe('E_BAD_JSON');
    expect((await u.api('GET', '/v1/sessions?status=alive')).body).toMatchObject({ code: 'E_VALIDATION', field: 'status' });
    expect((await u.api('GET', '/v1/sessions?limit=-1')).body).toMatchObject({ code: 'E_VALIDATION', field: 'limit' });
    expect((await u.api('PUT', '/v1/plans/p1', { maxSessions: -3 })).body).toMatchObject({ code: 'E_VALIDATION', field: 'maxSessions' });
    expect((await u.api('PUT', '/v1/accounts/a1', { plan: 'missing' })).body).toMatchObject({ code: 'E_VALIDATION', field: 'plan' });
    // nothing half-written: the refused plan and account do not exist
    expect((await u.api('GET', '/v1/plans/p1')).status).toBe(404);
    expect((await u.api('GET', '/v1/accounts')).body.items.map((a: { id: string }) => a.id)).not.toContain('a1');
    const big = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: 'x', token: 'a'.repeat(70_000) });
    expect(big.status).toBe(413);
  });

  it('one answer for one kind of input: every bad stream name is a 400 naming the field', async () => {
    for (const stream of ['live/../etc', '..', 'live/%00x', 'live/\u0001', '', '/', 'x'.repeat(600)]) {
      const r = await admit({ stream, token: 't.t' });
      expect([stream, r.status, r.body.code, r.body.field]).toEqual([stream, 400, 'E_VALIDATION', 'stream']);
    }
  });

  it('times past their bound are refused where they are given, and one bad row never breaks a listing', async () => {
    const r = await u.api('PUT', '/v1/plans/huge', { maxDurationSeconds: 1e308 });
    expect([r.status, r.body.code, r.body.field]).toEqual([400, 'E_VALIDATION', 'maxDurationSeconds']);
    expect((await u.api('PUT', '/v1/plans/huge', { maxDurationSeconds: '100000000000d' })).body.field).toBe('maxDurationSeconds');
    expect((await u.api('GET', '/v1/plans/huge')).status).toBe(404);
    // a row written by an older version with an expiry no date can hold
    const a = await admit({ stream: 'bound/a', token: u.sign({ stream: 'bound/a', account: 'b' }) });
    const Database = (await import('better-sqlite3')).default;
    const raw = new Database(u.config.store.path);
    raw.prepare('UPDATE sessions SET expires_at = ? WHERE id = ?').run(1e308, a.body.sessionId);
    raw.close();
    const list = await u.api('GET', '/v1/sessions?status=active&stream=bound/a');
    expect(list.status).toBe(200);
    expect(list.body.items[0].expiresAt).toBeNull();
  });

  it('only a caller with the admin token may speak for someone else (server, clientId, ip, kind)', async () => {
    const token = u.sign({ stream: 'trust/a', account: 't' });
    for (const f of [{ server: 'edge' }, { clientId: '17' }, { ip: '1.2.3.4' }, { kind: 'unspecified' }]) {
      const r = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: 'trust/a', token, ...f });
      expect(r.status).toBe(401);
      expect(r.body).toMatchObject({ code: 'E_UNAUTHORIZED', field: Object.keys(f)[0] });
    }
    const own = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: 'trust/a', token, server: 'api' });
    expect(own.status).toBe(200);
    expect((await u.api('GET', `/v1/sessions/${own.body.sessionId}`)).body.ip).toBe('127.0.0.1');
  });

  it('a client cannot end a session that a media-server connection holds (its slot would free while it plays)', async () => {
    const token = u.sign({ stream: 'held/a', account: 'h' });
    const held = await admit({ stream: 'held/a', token, server: 'builtin', clientId: 'rtsp-x', protocol: 'rtsp' });
    const r = await call(u.url, 'POST', `/v1/sessions/${held.body.sessionId}/end`);
    expect(r.status).toBe(409);
    expect((await u.api('GET', `/v1/sessions/${held.body.sessionId}`)).body.status).toBe('active');
    const api = await call(u.url, 'POST', '/v1/admission', { action: 'play', stream: 'held/b', token: u.sign({ stream: 'held/b', account: 'h' }) });
    expect((await call(u.url, 'POST', `/v1/sessions/${api.body.sessionId}/end`)).status).toBe(200);
  });

  it('a token given as the password is the session\'s token: two accounts on one address stay two sessions', async () => {
    const a = await admit({ stream: 'pwtok/a', user: 'x', password: u.sign({ stream: 'pwtok/a', account: 'dave' }) });
    const b = await admit({ stream: 'pwtok/a', user: 'x', password: u.sign({ stream: 'pwtok/a', account: 'erin' }) });
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    expect(b.body.sessionId).not.toBe(a.body.sessionId);
    expect((await u.api('GET', `/v1/sessions/${b.body.sessionId}`)).body.account).toBe('erin');
    const inv = await u.api('POST', '/v1/sessions/invalidate', { stream: 'pwtok/a' });
    expect(inv.body).toEqual({ checked: 2, killed: [] });
  });

  it('session lifecycle: admit, get, filter, heartbeat, end; 404 for unknown ids', async () => {
    const token = u.sign({ stream: 'life/a', account: 'lc', device: 'tv' });
    const a = await admit({ stream: 'life/a', token, protocol: 'hls' });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ allow: true, kind: 'viewer' });
    const id = a.body.sessionId;
    const got = await u.api('GET', `/v1/sessions/${id}`);
    expect(got.body).toMatchObject({ id, kind: 'viewer', status: 'active', stream: 'life/a', account: 'lc', device: 'tv', ip: '10.0.0.9', protocol: 'hls', server: 'api' });
    expect(got.body.token).toBeUndefined();
    const list = await u.api('GET', '/v1/sessions?stream=life/a&account=lc&kind=viewer&status=active&server=api');
    expect(list.body.total).toBe(1);
    expect((await u.api('POST', `/v1/sessions/${id}/heartbeat`)).status).toBe(200);
    const end = await u.api('POST', `/v1/sessions/${id}/end`);
    expect(end.body).toMatchObject({ status: 'ended', reason: 'ended' });
    expect((await u.api('POST', `/v1/sessions/${id}/heartbeat`)).status).toBe(410);
    expect((await u.api('GET', '/v1/sessions/00000000-0000-0000-0000-000000000000')).body).toEqual({ code: 'E_NOT_FOUND', message: expect.any(String) });
    expect((await u.api('POST', '/v1/sessions/nope/heartbeat')).status).toBe(404);
  });

  it('a session without heartbeats ends after sessions.timeoutSeconds', async () => {
    const a = await admit({ stream: 'life/t', token: u.sign({ stream: 'life/t', account: 'to' }) });
    await waitFor(async () => (await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.status === 'ended', 5000);
    expect((await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.reason).toBe('timeout');
  });

  it('same key = same session, not counted twice; plan limit deny → E_LIMIT_REACHED', async () => {
    const t1 = u.sign({ stream: 'lim/a', account: 'duo1', plan: 'duo', device: '1' });
    const first = await admit({ stream: 'lim/a', token: t1 });
    const again = await admit({ stream: 'lim/a', token: t1 });
    expect(again.body.sessionId).toBe(first.body.sessionId);
    expect((await admit({ stream: 'lim/a', token: u.sign({ stream: 'lim/a', account: 'duo1', plan: 'duo', device: '2' }) })).status).toBe(200);
    const third = await admit({ stream: 'lim/a', token: u.sign({ stream: 'lim/a', account: 'duo1', plan: 'duo', device: '3' }) });
    expect(third.status).toBe(403);
    expect(third.body.code).toBe('E_LIMIT_REACHED');
    const denied = await u.api('GET', '/v1/sessions?account=duo1&status=denied');
    expect(denied.body.items[0].reason).toBe('E_LIMIT_REACHED');
    // the same device coming back is still approved while the account is full
    expect((await admit({ stream: 'lim/a', token: t1 })).status).toBe(200);
  });

  it('killOldest: the oldest session is killed with reason replaced', async () => {
    const a = await admit({ stream: 'swap/a', token: u.sign({ stream: 'swap/a', account: 'sw', plan: 'swap', device: 'old' }) });
    const b = await admit({ stream: 'swap/a', token: u.sign({ stream: 'swap/a', account: 'sw', plan: 'swap', device: 'new' }) });
    expect(b.status).toBe(200);
    await waitFor(async () => (await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.status === 'killed');
    expect((await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.reason).toBe('replaced');
  });

  it('per-stream viewer cap → E_STREAM_FULL; publish needs a publish credential', async () => {
    expect((await admit({ stream: 'capped/x', token: u.sign({ stream: 'capped/x', account: 'c1' }) })).status).toBe(200);
    const full = await admit({ stream: 'capped/x', token: u.sign({ stream: 'capped/x', account: 'c2' }) });
    expect(full.body.code).toBe('E_STREAM_FULL');
    const pub = await admit({ action: 'publish', stream: 'pub/x', token: u.sign({ stream: 'pub/x', account: 'p' }) });
    expect(pub.body.code).toBe('E_STREAM_FORBIDDEN');
    const wrongStream = await admit({ stream: 'pub/y', token: u.sign({ stream: 'pub/x', account: 'p' }) });
    expect(wrongStream.body.code).toBe('E_STREAM_FORBIDDEN');
    const ok = await admit({ action: 'publish', stream: 'pub/x', token: u.sign({ stream: 'pub/x', account: 'p', action: 'publish' }) });
    expect(ok.body).toMatchObject({ allow: true, kind: 'input' });
  });

  it('a plan lifetime kills the session with reason expired', async () => {
    const a = await admit({ stream: 'short/a', token: u.sign({ stream: 'short/a', account: 'sh', plan: 'short' }) });
    expect(a.body.expiresAt).not.toBeNull();
    const hb = setInterval(() => void u.api('POST', `/v1/sessions/${a.body.sessionId}/heartbeat`), 300);
    try {
      await waitFor(async () => (await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.status === 'killed', 5000);
    } finally {
      clearInterval(hb);
    }
    expect((await u.api('GET', `/v1/sessions/${a.body.sessionId}`)).body.reason).toBe('expired');
  });

  it('kick: DELETE → 200 killed with the reason; the key is then denied recently; clearing denied lets it back', async () => {
    const token = u.sign({ stream: 'kick/a', account: 'k' });
    const a = await admit({ stream: 'kick/a', token });
    const k = await u.api('DELETE', `/v1/sessions/${a.body.sessionId}`, { reason: 'abuse' });
    expect(k.status).toBe(200);
    expect(k.body).toMatchObject({ status: 'killed', reason: 'abuse' });
    expect((await u.api('DELETE', `/v1/sessions/${a.body.sessionId}`)).status).toBe(410);
    expect((await u.api('DELETE', '/v1/sessions/missing')).status).toBe(404);
    const back = await admit({ stream: 'kick/a', token });
    expect(back.body.code).toBe('E_DENIED_RECENTLY');
    const denied = await u.api('GET', '/v1/denied');
    const entry = denied.body.items.find((d: { stream: string }) => d.stream === 'kick/a');
    expect(entry).toBeDefined();
    expect((await u.api('DELETE', `/v1/denied/${entry.key}`)).body.cleared).toBe(1);
    expect((await admit({ stream: 'kick/a', token })).status).toBe(200);
  });

  it('a missing credential is a challenge, not a denial: nothing is recorded or remembered', async () => {
    const before = (await u.api('GET', '/v1/sessions?status=denied&stream=chal/a')).body.total;
    expect((await admit({ stream: 'chal/a' })).body.code).toBe('E_CREDENTIALS_REQUIRED');
    expect((await admit({ stream: 'chal/a' })).body.code).toBe('E_CREDENTIALS_REQUIRED');
    expect((await u.api('GET', '/v1/sessions?status=denied&stream=chal/a')).body.total).toBe(before);
    expect((await admit({ stream: 'chal/a', token: u.sign({ stream: 'chal/a', account: 'c' }) })).status).toBe(200);
  });

  it('a wrong password is remembered for that password only: the right one is admitted at once', async () => {
    expect((await admit({ stream: 'pw/a', user: 'bob', password: 'wrong' })).body.code).toBe('E_TOKEN_INVALID');
    expect((await admit({ stream: 'pw/a', user: 'bob', password: 'wrong' })).body.code).toBe('E_DENIED_RECENTLY');
    expect((await admit({ stream: 'pw/a', user: 'bob', password: u.sign({ stream: 'pw/a', account: 'bob' }) })).status).toBe(200);
  });

  it('an invalid token is remembered: the same key is refused at once with E_DENIED_RECENTLY', async () => {
    const first = await admit({ stream: 'mem/a', token: 'forged.token' });
    expect(first.body.code).toBe('E_TOKEN_INVALID');
    expect((await admit({ stream: 'mem/a', token: 'forged.token' })).body.code).toBe('E_DENIED_RECENTLY');
  });

  it('accounts and plans: set limits, read them back; an account override beats the token plan', async () => {
    expect((await u.api('PUT', '/v1/plans/gold', { maxSessions: 5, onLimit: 'deny', exemptStreams: ['radio/*'], maxDurationSeconds: '2h' })).body)
      .toMatchObject({ name: 'gold', maxSessions: 5, maxDurationSeconds: 7200, source: 'api' });
    expect((await u.api('GET', '/v1/plans')).body.items.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['default', 'duo', 'gold']));
    const acc = await u.api('PUT', '/v1/accounts/solo', { plan: 'gold', maxSessions: 1 });
    expect(acc.body).toMatchObject({ id: 'solo', plan: 'gold', maxSessions: 1, disabled: false });
    expect((await admit({ stream: 'acc/a', token: u.sign({ stream: 'acc/a', account: 'solo', device: '1' }) })).status).toBe(200);
    expect((await admit({ stream: 'acc/a', token: u.sign({ stream: 'acc/a', account: 'solo', device: '2' }) })).body.code).toBe('E_LIMIT_REACHED');
    // exempt streams of the plan do not count
    expect((await admit({ stream: 'radio/one', token: u.sign({ stream: 'radio/one', account: 'solo', device: '3' }) })).status).toBe(200);
    await u.api('PUT', '/v1/accounts/solo', { disabled: true });
    expect((await admit({ stream: 'acc/b', token: u.sign({ stream: 'acc/b', account: 'solo', device: '9' }) })).body.code).toBe('E_ACCOUNT_DISABLED');
    expect((await u.api('GET', '/v1/accounts/solo')).body).toMatchObject({ id: 'solo', plan: 'gold', effectivePlan: 'gold', stored: true });
  });

  it('invalidate re-admits live sessions under today\'s rules and kills the ones that now fail', async () => {
    const tokens = ['1', '2', '3'].map((d) => u.sign({ stream: 'inv/a', account: 'inv', device: d }));
    const ids: string[] = [];
    for (const token of tokens) ids.push((await admit({ stream: 'inv/a', token })).body.sessionId);
    await u.api('PUT', '/v1/accounts/inv', { maxSessions: 2 });
    const r = await u.api('POST', '/v1/sessions/invalidate', { stream: 'inv/a' });
    expect(r.status).toBe(200);
    expect(r.body.checked).toBe(3);
    expect(r.body.killed).toEqual([{ id: ids[2], code: 'E_LIMIT_REACHED' }]);
    expect((await u.api('GET', `/v1/sessions/${ids[2]}`)).body.status).toBe('killed');
    expect((await u.api('GET', `/v1/sessions/${ids[0]}`)).body.status).toBe('active');
  });

  it('stats, streams, healthz and Prometheus metrics', async () => {
    await admit({ stream: 'st/a', token: u.sign({ stream: 'st/a', account: 'stats' }) });
    const st = await u.api('GET', '/v1/stats');
    // /v1/stats is O(1) (SPEC §8): whole-registry counts; per stream and per account live on their own endpoints
    expect(st.body.byStream).toBeUndefined();
    expect(st.body.byKind.viewer).toBeGreaterThan(0);
    expect(st.body.streams).toBeGreaterThan(0);
    expect((await u.api('GET', '/v1/accounts/stats')).body.live).toBe(1);
    expect((await u.api('GET', '/v1/streams')).body.items.find((s: { stream: string }) => s.stream === 'st/a')).toMatchObject({ viewers: 1 });
    expect((await call(u.url, 'GET', '/healthz')).body.status).toBe('ok');
    const m = await fetch(u.url + '/metrics');
    const text = await m.text();
    expect(m.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/^usher_sessions_live\{kind="viewer"\} \d+$/m);
    expect(text).toMatch(/^usher_admission_denials_total\{code="E_LIMIT_REACHED"\} [1-9]\d*$/m);
    expect(text).toMatch(/^usher_http_requests_total [1-9]\d*$/m);
    expect(text).toMatch(/^process_cpu_seconds_total \d/m);
    expect(text).toMatch(/^# TYPE usher_sessions_live gauge$/m);
  });

  it('clear --older-than prunes finished history only', async () => {
    const r = await u.api('POST', '/v1/sessions/clear', { olderThan: '0s' });
    expect(r.status).toBe(200);
    expect(r.body.deleted).toBeGreaterThan(0);
    expect((await u.api('GET', '/v1/sessions?status=ended')).body.total).toBe(0);
    expect((await u.api('GET', '/v1/sessions?status=active')).body.total).toBeGreaterThan(0);
    expect((await u.api('POST', '/v1/sessions/clear', { olderThan: 'soon' })).body).toMatchObject({ code: 'E_VALIDATION', field: 'olderThan' });
  });
});
