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

const noLimit: AdmitLimits = { account: null, maxSessions: 0, onLimit: 'deny', streamMaxViewers: 0 };
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
