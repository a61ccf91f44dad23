/**
 * The one store suite: every Store implementation runs exactly these tests.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/core/types.js';
import type { AdmitLimits, Store } from '../../src/store/store.js';

let t0 = 1_800_000_000_000;

export function rec(o: Partial<SessionRecord> = {}): SessionRecord {
  t0 += 10;
  return {
    id: randomUUID(), key: randomUUID(), kind: 'viewer', status: 'active', reason: null, stream: 'live/demo', account: 'alice',
    plan: 'default', device: null, role: null, ip: '10.0.0.1', protocol: 'rtsp', server: 'api', clientId: null, userAgent: null,
    token: 'secret-token', authMethod: 'signed', counted: true, startedAt: t0, endedAt: null, lastSeen: t0, expiresAt: null,
    bytesIn: 0, bytesOut: 0, ...o,
  };
}

const noLimit: AdmitLimits = { account: null, maxSessions: 0, onLimit: 'deny', streamMaxViewers: 0, busy: null };
const lim = (o: Partial<AdmitLimits>): AdmitLimits => ({ ...noLimit, account: 'alice', ...o });

export function storeSuite(name: string, make: () => Promise<{ store: Store; cleanup?: () => Promise<void> | void }>): void {
  describe(`store suite: ${name}`, () => {
    let store: Store;
    let cleanup: (() => Promise<void> | void) | undefined;
    beforeEach(async () => {
      ({ store, cleanup } = await make());
      await store.init();
    });
    afterEach(async () => {
      await store.close();
      await cleanup?.();
    });

    it('admits, then gets and lists the session (token kept for re-admission)', async () => {
      const s = rec();
      const r = await store.admit({ session: s, conn: null, limits: noLimit });
      expect(r.outcome).toBe('admitted');
      expect(await store.get(s.id)).toEqual(s);
      const { items, total } = await store.list({ status: 'active' }, { limit: 10, offset: 0 });
      expect(total).toBe(1);
      expect(items[0].id).toBe(s.id);
    });

    it('a second admission with the same key joins the active session', async () => {
      const s = rec();
      await store.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
      const again = await store.admit({ session: rec({ key: s.key }), conn: { server: 'edge', clientId: '2', protocol: 'rtmp' }, limits: lim({ maxSessions: 1 }) });
      expect(again.outcome).toBe('joined');
      expect(again.outcome === 'joined' && again.session.id).toBe(s.id);
      expect((await store.list({}, { limit: 10, offset: 0 })).total).toBe(1);
      const live = await store.listLive();
      expect(live[0].conns.map((c) => c.clientId).sort()).toEqual(['1', '2']);
    });

    it('deny on limit: nothing is written and the sessions in the way are returned', async () => {
      const a = rec();
      const b = rec();
      await store.admit({ session: a, conn: null, limits: lim({ maxSessions: 2 }) });
      await store.admit({ session: b, conn: null, limits: lim({ maxSessions: 2 }) });
      const c = rec();
      const r = await store.admit({ session: c, conn: null, limits: lim({ maxSessions: 2 }) });
      expect(r.outcome).toBe('limit');
      expect(r.outcome === 'limit' && r.scope).toBe('account');
      expect(r.outcome === 'limit' && r.active.map((s) => s.id).sort()).toEqual([a.id, b.id].sort());
      expect(await store.get(c.id)).toBeUndefined();
    });

    it('sessions that do not count, and other accounts, do not use the slot', async () => {
      await store.admit({ session: rec({ counted: false }), conn: null, limits: lim({ maxSessions: 1 }) });
      await store.admit({ session: rec({ account: 'bob' }), conn: null, limits: lim({ account: 'bob', maxSessions: 1 }) });
      const r = await store.admit({ session: rec(), conn: null, limits: lim({ maxSessions: 1 }) });
      expect(r.outcome).toBe('admitted');
    });

    it('killOldest: the oldest is set to killing with reason replaced, the newcomer is inserted', async () => {
      const a = rec();
      const b = rec();
      await store.admit({ session: a, conn: null, limits: lim({ maxSessions: 2, onLimit: 'killOldest' }) });
      await store.admit({ session: b, conn: null, limits: lim({ maxSessions: 2, onLimit: 'killOldest' }) });
      const c = rec();
      const r = await store.admit({ session: c, conn: null, limits: lim({ maxSessions: 2, onLimit: 'killOldest' }) });
      expect(r.outcome).toBe('admitted');
      expect(r.outcome === 'admitted' && r.replaced.map((s) => s.id)).toEqual([a.id]);
      expect((await store.get(a.id))!.status).toBe('killing');
      expect((await store.get(a.id))!.reason).toBe('replaced');
      expect((await store.get(c.id))!.status).toBe('active');
    });

    it('per-stream viewer cap', async () => {
      await store.admit({ session: rec({ account: 'x' }), conn: null, limits: { ...noLimit, streamMaxViewers: 1 } });
      const r = await store.admit({ session: rec({ account: 'y' }), conn: null, limits: { ...noLimit, streamMaxViewers: 1 } });
      expect(r.outcome === 'limit' && r.scope).toBe('stream');
      const other = await store.admit({ session: rec({ account: 'y', stream: 'live/other' }), conn: null, limits: { ...noLimit, streamMaxViewers: 1 } });
      expect(other.outcome).toBe('admitted');
    });

    it('concurrent admissions against a limit of 3 admit exactly 3 (atomic check + insert)', async () => {
      const results = await Promise.all(Array.from({ length: 20 }, () => store.admit({ session: rec(), conn: null, limits: lim({ maxSessions: 3 }) })));
      expect(results.filter((r) => r.outcome === 'admitted')).toHaveLength(3);
      expect(results.filter((r) => r.outcome === 'limit')).toHaveLength(17);
      expect((await store.list({ status: 'active', account: 'alice' }, { limit: 100, offset: 0 })).total).toBe(3);
    });

    it('setStatus: killing → killed is final; an ended session is not live any more', async () => {
      const s = rec();
      await store.admit({ session: s, conn: { server: 'edge', clientId: '7', protocol: 'rtmp' }, limits: noLimit });
      expect((await store.setStatus(s.id, 'killing', 'kicked', t0 + 1))!.status).toBe('killing');
      const done = await store.setStatus(s.id, 'killed', 'kicked', t0 + 2);
      expect(done).toMatchObject({ status: 'killed', reason: 'kicked', endedAt: t0 + 2 });
      expect(await store.setStatus(s.id, 'ended', 'late', t0 + 3)).toBeUndefined();
      expect(await store.listLive()).toEqual([]);
      // the key is free again
      expect((await store.admit({ session: rec({ key: s.key }), conn: null, limits: noLimit })).outcome).toBe('admitted');
    });

    it('setStatus with a null reason keeps the recorded one (a kill finishing keeps why it was ordered)', async () => {
      const s = rec();
      await store.admit({ session: s, conn: null, limits: noLimit });
      await store.setStatus(s.id, 'killing', 'abuse', t0 + 1);
      expect(await store.setStatus(s.id, 'killed', null, t0 + 2)).toMatchObject({ status: 'killed', reason: 'abuse' });
      expect((await store.get(s.id))!.reason).toBe('abuse');
      const ev = (await store.listEvents(0, 10)).find((e) => e.type === 'session.killed');
      expect(ev?.session.reason).toBe('abuse');
    });

    it('unknown ids: get undefined, setStatus undefined', async () => {
      expect(await store.get('nope')).toBeUndefined();
      expect(await store.setStatus('nope', 'ended', null, 1)).toBeUndefined();
    });

    it('touch moves lastSeen forward only; addBytes accumulates', async () => {
      const s = rec();
      await store.admit({ session: s, conn: null, limits: noLimit });
      await store.touch([s.id], s.lastSeen + 5000);
      await store.touch([s.id], s.lastSeen + 1000);
      await store.addBytes(s.id, 10, 20);
      await store.addBytes(s.id, 1, 2);
      expect(await store.get(s.id)).toMatchObject({ lastSeen: s.lastSeen + 5000, bytesIn: 11, bytesOut: 22 });
    });

    it('attach/detach connections', async () => {
      const s = rec();
      await store.admit({ session: s, conn: null, limits: noLimit });
      await store.attach(s.id, { server: 'edge', clientId: 'c1', protocol: 'rtmp' });
      expect((await store.listLive())[0].conns).toEqual([{ server: 'edge', clientId: 'c1', protocol: 'rtmp' }]);
      await store.detach({ server: 'edge', clientId: 'c1' });
      expect((await store.listLive())[0].conns).toEqual([]);
    });

    it('list filters and paginates, newest first', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const s = rec({ stream: i % 2 ? 'live/a' : 'live/b', kind: i === 4 ? 'input' : 'viewer', server: i === 3 ? 'edge' : 'api' });
        ids.push(s.id);
        await store.admit({ session: s, conn: null, limits: noLimit });
      }
      await store.recordDenied(rec({ status: 'denied', reason: 'E_TOKEN_INVALID', endedAt: t0 }));
      expect((await store.list({ stream: 'live/a' }, { limit: 10, offset: 0 })).total).toBe(2);
      expect((await store.list({ kind: 'input' }, { limit: 10, offset: 0 })).items[0].id).toBe(ids[4]);
      expect((await store.list({ server: 'edge' }, { limit: 10, offset: 0 })).items[0].id).toBe(ids[3]);
      expect((await store.list({ status: 'denied' }, { limit: 10, offset: 0 })).total).toBe(1);
      const page = await store.list({ status: 'active' }, { limit: 2, offset: 1 });
      expect(page.total).toBe(5);
      expect(page.items.map((s) => s.id)).toEqual([ids[3], ids[2]]);
    });

    it('pruneHistory deletes finished sessions older than the cut, never live ones', async () => {
      const old = rec();
      const live = rec();
      await store.admit({ session: old, conn: null, limits: noLimit });
      await store.admit({ session: live, conn: null, limits: noLimit });
      await store.setStatus(old.id, 'ended', 'timeout', t0 + 100);
      expect(await store.pruneHistory(t0 + 50)).toBe(0);
      expect(await store.pruneHistory(t0 + 1000)).toBe(1);
      expect(await store.get(old.id)).toBeUndefined();
      expect(await store.get(live.id)).toBeDefined();
    });

    it('accounts and plans round-trip and update', async () => {
      await store.putAccount({ id: 'alice', plan: 'gold', maxSessions: null, disabled: false, updatedAt: 1 });
      await store.putAccount({ id: 'alice', plan: 'gold', maxSessions: 3, disabled: true, updatedAt: 2 });
      expect(await store.getAccount('alice')).toEqual({ id: 'alice', plan: 'gold', maxSessions: 3, disabled: true, updatedAt: 2 });
      expect(await store.getAccount('bob')).toBeUndefined();
      const plan = { name: 'gold', maxSessions: 2, onLimit: 'killOldest' as const, exemptStreams: ['radio/*'], exemptProtocols: ['hls'], maxDurationSeconds: 3600 };
      await store.putPlan(plan);
      expect(await store.getPlan('gold')).toEqual(plan);
      expect((await store.listPlans()).map((p) => p.name)).toEqual(['gold']);
      expect((await store.listAccounts()).map((a) => a.id)).toEqual(['alice']);
    });

    it('denied keys expire, list, clear one and all', async () => {
      await store.putDenied({ key: 'k1', code: 'E_TOKEN_INVALID', reason: 'bad', stream: 's', ip: '1', until: 1000 });
      await store.putDenied({ key: 'k2', code: 'E_TOKEN_INVALID', reason: 'bad', stream: 's', ip: '1', until: 3000 });
      await store.putDenied({ key: 'k3', code: 'E_TOKEN_INVALID', reason: 'bad', stream: 's', ip: '1', until: 3000 });
      expect((await store.listDenied(2000)).map((d) => d.key)).toEqual(['k2', 'k3']);
      expect(await store.clearDenied('k2')).toBe(1);
      expect(await store.clearDenied('k2')).toBe(0);
      expect(await store.clearDenied()).toBe(2);
      expect(await store.listDenied(0)).toEqual([]);
    });

    // ── screens and slots (SPEC §2) ──────────────────────────────────────────────────────────
    const edge = (clientId: string) => ({ server: 'edge', clientId, protocol: 'rtmp' });

    it('sessions on one device are one screen: a device may play two streams on a one-screen plan', async () => {
      const one = lim({ maxSessions: 1 });
      expect((await store.admit({ session: rec({ device: 'tv', stream: 'live/a' }), conn: edge('1'), limits: one })).outcome).toBe('admitted');
      expect((await store.admit({ session: rec({ device: 'tv', stream: 'live/b' }), conn: edge('2'), limits: one })).outcome).toBe('admitted');
      const phone = await store.admit({ session: rec({ device: 'phone' }), conn: edge('3'), limits: one });
      expect(phone.outcome === 'limit' && phone.active).toHaveLength(2);
      expect(await store.accountUse('alice')).toEqual({ sessions: 2, screens: 1 });
    });

    it('a session whose last connection closed frees its slot at once; its key coming back needs a slot again', async () => {
      const one = lim({ maxSessions: 1 });
      const tv = rec({ device: 'tv' });
      await store.admit({ session: tv, conn: edge('1'), limits: one });
      await store.detach(edge('1'));
      expect(await store.accountUse('alice')).toEqual({ sessions: 0, screens: 0 });
      expect((await store.get(tv.id))!.status).toBe('active'); // lingers until its timeout
      const phone = rec({ device: 'phone' });
      expect((await store.admit({ session: phone, conn: edge('2'), limits: one })).outcome).toBe('admitted');
      // the tv comes back with the same key: the phone holds the only slot
      const back = await store.admit({ session: rec({ key: tv.key, device: 'tv' }), conn: edge('3'), limits: one });
      expect(back.outcome === 'limit' && back.active.map((x) => x.id)).toEqual([phone.id]);
      // once the phone stops, the tv's key rejoins its own session
      await store.detach(edge('2'));
      const again = await store.admit({ session: rec({ key: tv.key, device: 'tv' }), conn: edge('4'), limits: one });
      expect(again.outcome === 'joined' && again.session.id).toBe(tv.id);
    });

    it('a session admitted without a connection holds its slot until it ends', async () => {
      const one = lim({ maxSessions: 1 });
      const api = rec();
      await store.admit({ session: api, conn: null, limits: one });
      expect((await store.admit({ session: rec(), conn: null, limits: one })).outcome).toBe('limit');
      await store.setStatus(api.id, 'ended', 'ended', t0 + 1);
      expect((await store.admit({ session: rec(), conn: null, limits: one })).outcome).toBe('admitted');
    });

    it('killOldest replaces every session of the oldest screen', async () => {
      const kill = lim({ maxSessions: 1, onLimit: 'killOldest' });
      const a = rec({ device: 'tv', stream: 'live/a' });
      const b = rec({ device: 'tv', stream: 'live/b' });
      await store.admit({ session: a, conn: edge('1'), limits: kill });
      await store.admit({ session: b, conn: edge('2'), limits: kill });
      const phone = await store.admit({ session: rec({ device: 'phone' }), conn: edge('3'), limits: kill });
      expect(phone.outcome === 'admitted' && phone.replaced.map((x) => x.id).sort()).toEqual([a.id, b.id].sort());
    });

    it('a connection that reappears under another session moves, and the first session frees its slot', async () => {
      const one = lim({ maxSessions: 1 });
      const a = rec();
      await store.admit({ session: a, conn: edge('7'), limits: one });
      const other = rec({ account: 'bob' });
      await store.admit({ session: other, conn: null, limits: noLimit });
      await store.attach(other.id, edge('7')); // the server reused client id 7 for someone else
      expect(await store.accountUse('alice')).toEqual({ sessions: 0, screens: 0 });
      expect((await store.listLive()).find((r) => r.session.id === other.id)!.conns.map((c) => c.clientId)).toEqual(['7']);
    });

    it('a session holds at most maxConnections connections; one that leaves makes room again', async () => {
      const two = { ...noLimit, maxConnections: 2 };
      const s = rec();
      await store.admit({ session: s, conn: edge('a'), limits: two });
      expect((await store.admit({ session: rec({ key: s.key }), conn: edge('b'), limits: two })).outcome).toBe('joined');
      const third = await store.admit({ session: rec({ key: s.key }), conn: edge('c'), limits: two });
      expect(third.outcome === 'limit' && [third.scope, third.active.map((x) => x.id)]).toEqual(['connections', [s.id]]);
      // a join without a connection (an API heartbeat-style admission) is not a connection
      expect((await store.admit({ session: rec({ key: s.key }), conn: null, limits: two })).outcome).toBe('joined');
      await store.detach(edge('a'));
      expect((await store.admit({ session: rec({ key: s.key }), conn: edge('c'), limits: two })).outcome).toBe('joined');
    });

    it('busy path: refuse a second publisher with another key, join the same key, admit once the first has left', async () => {
      const busy = { ...noLimit, busy: 'refuse' as const };
      const pub = { kind: 'input' as const, server: 'builtin', stream: 'live/cam', counted: false };
      const a = rec(pub);
      await store.admit({ session: a, conn: { server: 'builtin', clientId: 'rtsp-a', protocol: 'rtsp' }, limits: busy });
      const b = await store.admit({ session: rec(pub), conn: { server: 'builtin', clientId: 'rtsp-b', protocol: 'rtsp' }, limits: busy });
      expect(b.outcome === 'limit' && b.scope).toBe('busy');
      expect(b.outcome === 'limit' && b.active.map((x) => x.id)).toEqual([a.id]);
      const same = await store.admit({ session: rec({ ...pub, key: a.key }), conn: { server: 'builtin', clientId: 'rtsp-c', protocol: 'rtsp' }, limits: busy });
      expect(same.outcome === 'joined' && same.session.id).toBe(a.id);
      // another server's publisher of the same name is not in the way
      expect((await store.admit({ session: rec({ ...pub, server: 'edge' }), conn: edge('9'), limits: busy })).outcome).toBe('admitted');
      await store.detach({ server: 'builtin', clientId: 'rtsp-a' });
      await store.detach({ server: 'builtin', clientId: 'rtsp-c' });
      expect((await store.admit({ session: rec(pub), conn: { server: 'builtin', clientId: 'rtsp-d', protocol: 'rtsp' }, limits: busy })).outcome).toBe('admitted');
    });

    it('busy path replace: the old publisher is set to killing (replaced) in the same step', async () => {
      const pub = { kind: 'input' as const, server: 'builtin', stream: 'live/cam2', counted: false };
      const a = rec(pub);
      await store.admit({ session: a, conn: { server: 'builtin', clientId: 'p1', protocol: 'rtsp' }, limits: { ...noLimit, busy: 'replace' } });
      const b = await store.admit({ session: rec(pub), conn: { server: 'builtin', clientId: 'p2', protocol: 'rtsp' }, limits: { ...noLimit, busy: 'replace' } });
      expect(b.outcome === 'admitted' && b.replaced.map((x) => [x.id, x.status, x.reason])).toEqual([[a.id, 'killing', 'replaced']]);
    });

    it('replace (takeover): the named session makes room in the same atomic step', async () => {
      const one = lim({ maxSessions: 1 });
      const a = rec({ device: 'tv' });
      await store.admit({ session: a, conn: null, limits: one });
      const b = rec({ device: 'phone' });
      const r = await store.admit({ session: b, conn: null, limits: one, replace: [a.id] });
      expect(r.outcome === 'admitted' && r.replaced.map((x) => x.id)).toEqual([a.id]);
      expect((await store.get(a.id))!).toMatchObject({ status: 'killing', reason: 'replaced' });
      expect(await store.accountUse('alice')).toEqual({ sessions: 1, screens: 1 });
    });

    it('scanLive walks live sessions in admission order, a page at a time; stream use and the summary follow', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        const s = rec({ stream: i < 5 ? 'live/big' : 'live/small', kind: i === 6 ? 'input' : 'viewer' });
        ids.push(s.id);
        await store.admit({ session: s, conn: i % 2 ? edge(String(i)) : null, limits: noLimit });
      }
      await store.setStatus(ids[3], 'ended', 'timeout', t0 + 1);
      const seen: string[] = [];
      for (let after = ''; ;) {
        const page = await store.scanLive(after, 3);
        // the session the walk resumes after ends meanwhile: the walk keeps its place
        if (page.at(-1)?.session.id === ids[2]) await store.setStatus(ids[2], 'ended', 'timeout', t0 + 2);
        if (page.length === 0) break;
        expect(page.length).toBeLessThanOrEqual(3);
        seen.push(...page.map((r) => r.session.id));
        after = page[page.length - 1].session.id;
      }
      expect(seen).toEqual(ids.filter((id) => id !== ids[3]));
      // a session that lost its connection lingers without its slot
      await store.detach(edge('1'));
      const first = (await store.scanLive('', 10)).find((r) => r.session.id === ids[1])!;
      expect([first.conns, first.holding]).toEqual([[], false]);
      expect((await store.scanLive('', 10)).find((r) => r.session.id === ids[0])!.holding).toBe(true);
      const use = await store.streamUse({ limit: 10, offset: 0 });
      expect(use.items.map((u) => [u.stream, u.sessions])).toEqual([['live/big', 3], ['live/small', 2]]);
      expect(use.items[1].byKind).toEqual({ viewer: 1, input: 1, output: 0, unspecified: 0 });
      await store.get(ids[0]); // the summary of a store in another thread is that of its last answer
      expect(store.summary()).toEqual({ live: 5, streams: 2, accounts: 1 });
    });

    it('refusals that name nobody are counted per (source, code), not stored one by one', async () => {
      for (let i = 0; i < 5; i++) await store.countDenial('10.0.0.9', 'E_TOKEN_INVALID', 1000 + i);
      await store.countDenial('10.0.0.9', 'E_TOKEN_EXPIRED', 2000);
      const { items, total } = await store.listDenialCounts({ limit: 10, offset: 0 });
      expect(total).toBe(2);
      expect(items.find((r) => r.code === 'E_TOKEN_INVALID')).toEqual({ source: '10.0.0.9', code: 'E_TOKEN_INVALID', count: 5, firstAt: 1000, lastAt: 1004 });
      expect((await store.list({ status: 'denied' }, { limit: 10, offset: 0 })).total).toBe(0);
    });

    it('every change writes an event with it, oldest first, without the token', async () => {
      const s = rec();
      await store.admit({ session: s, conn: null, limits: noLimit });
      await store.setStatus(s.id, 'ended', 'timeout', t0 + 1);
      await store.recordDenied(rec({ status: 'denied', reason: 'E_LIMIT_REACHED', endedAt: t0 }));
      const ev = await store.listEvents(0, 10);
      expect(ev.map((e) => e.type)).toEqual(['session.started', 'session.ended', 'session.denied']);
      expect(ev.every((e) => e.session.token === null)).toBe(true);
      expect((await store.listEvents(ev[1].seq, 10)).map((e) => e.type)).toEqual(['session.denied']);
    });
  });
}
