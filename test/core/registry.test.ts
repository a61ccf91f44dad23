import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LiveIndex } from '../../src/core/live-index.js';
import { KILL_GIVE_UP_MS, Registry } from '../../src/core/registry.js';
import type { ConnRef, ControlPort, SessionEvent } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { MemoryStore } from '../../src/store/memory.js';
import { rec } from '../store/suite.js';

const noLimit = { account: null, maxSessions: 0, onLimit: 'deny' as const, streamMaxViewers: 0, busy: null };

function setup(timeoutSeconds = 15) {
  let now = 1_900_000_000_000;
  const store = new MemoryStore();
  const sessions = { ...loadConfig({ env: {} }).sessions, timeoutSeconds };
  const registry = new Registry({ store, sessions, log: silentLogger, now: () => now });
  const events: SessionEvent[] = [];
  registry.onEvent((e) => events.push(e));
  return { store, registry, events, advance: (ms: number) => (now += ms), now: () => now };
}

describe('LiveIndex: time buckets', () => {
  it('a sweep visits only due buckets and finds exactly the timed-out sessions', () => {
    const idx = new LiveIndex(15_000);
    const t = 1_900_000_000_000;
    for (let i = 0; i < 100; i++) idx.add({ ...rec({ startedAt: t, lastSeen: t + i * 1000 }) });
    const held = idx.add(rec({ startedAt: t, lastSeen: t }), [{ server: 'builtin', clientId: 'c', protocol: 'rtsp' }]);
    expect(idx.sweep(t + 14_999)).toEqual([]);
    const due = idx.sweep(t + 15_000 + 9_000);
    expect(due).toHaveLength(10);
    expect(due.every((d) => d.why === 'timeout')).toBe(true);
    // the due ones are fenced (`ending`) until the registry has recorded their end; the rest are untouched
    expect([...idx.sessions()].filter((s) => s.status === 'ending')).toHaveLength(10);
    expect([...idx.sessions()].filter((s) => s.status === 'active')).toHaveLength(91);
    expect(idx.get(held.id)?.status).toBe('active');
  });

  it('a touched session moves to a later bucket; a lifetime makes it due even while held', () => {
    const idx = new LiveIndex(10_000);
    const t = 1_900_000_000_000;
    const s = idx.add(rec({ startedAt: t, lastSeen: t }));
    idx.touch(s, t + 8000);
    expect(idx.sweep(t + 12_000)).toEqual([]);
    expect(idx.sweep(t + 18_000).map((d) => d.session.id)).toEqual([s.id]);
    const life = idx.add(rec({ startedAt: t, lastSeen: t, expiresAt: t + 30_000 }), [{ server: 'x', clientId: '1', protocol: 'rtmp' }]);
    expect(idx.sweep(t + 31_000)).toEqual([{ session: life, why: 'expired' }]);
  });

  it('a long lifetime filed first does not hold back an earlier timeout filed later', () => {
    const idx = new LiveIndex(10_000);
    const t = 1_900_000_000_000;
    idx.add(rec({ startedAt: t, lastSeen: t, expiresAt: t + 3_600_000 }), [{ server: 'x', clientId: '1', protocol: 'rtmp' }]);
    const short = idx.add(rec({ startedAt: t, lastSeen: t }));
    expect(idx.sweep(t + 11_000).map((d) => d.session.id)).toEqual([short.id]);
    // and after sweeps have run, a session already past due is taken by the next sweep
    const late = idx.add(rec({ startedAt: t, lastSeen: t }));
    expect(idx.sweep(t + 12_000).map((d) => d.session.id)).toEqual([late.id]);
  });

  it('the connection index follows add/attach/detach/remove; a connection reused by another session moves', () => {
    const idx = new LiveIndex(10_000);
    const s = idx.add(rec({ stream: 'a/b', account: 'acc' }));
    idx.attach(s, { server: 'e', clientId: '9', protocol: 'rtmp' });
    expect(idx.byConn('e', '9')).toBe(s);
    expect(idx.connIds('e')).toEqual(['9']);
    const t = idx.add(rec());
    expect(idx.attach(t, { server: 'e', clientId: '9', protocol: 'rtmp' })).toBe(s);
    expect(s.conns).toBeNull();
    expect(idx.detach('e', '9')).toBe(t);
    idx.remove(s);
    idx.remove(t);
    expect(idx.kindCounts.viewer).toBe(0);
    expect(idx.size).toBe(0);
  });
});

describe('Registry', () => {
  it('restart: built-in sessions end (their connections died), others stay live with their connections', async () => {
    const { store, registry } = setup();
    const b = rec({ server: 'builtin' });
    const e = rec({ server: 'edge' });
    await store.admit({ session: b, conn: { server: 'builtin', clientId: 'r1', protocol: 'rtsp' }, limits: noLimit });
    await store.admit({ session: e, conn: { server: 'edge', clientId: '5', protocol: 'rtmp' }, limits: noLimit });
    await registry.load();
    expect((await store.get(b.id))!).toMatchObject({ status: 'ended', reason: 'restart' });
    expect(registry.live(e.id)).toBeDefined();
    expect(registry.byConn('edge', '5')?.id).toBe(e.id);
  });

  it('connection close starts the timeout; the sweep ends the session and emits session.ended', async () => {
    const { registry, events, advance } = setup(15);
    const s = rec({ server: 'edge' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    advance(60_000);
    expect(await registry.sweep()).toBe(0); // held by a connection: no heartbeat needed
    await registry.connectionClosed('edge', '1', { bytesOut: 100 });
    advance(14_000);
    expect(await registry.sweep()).toBe(0);
    advance(2_000);
    expect(await registry.sweep()).toBe(1);
    expect(events.map((e) => e.type)).toEqual(['session.started', 'session.ended']);
    expect(events[1].session).toMatchObject({ status: 'ended', reason: 'timeout', bytesOut: 100 });
  });

  it('kill: an unreachable server leaves the session killing and retries; the close event finishes it', async () => {
    const { store, registry, events } = setup();
    let up = false;
    const kicked: ConnRef[] = [];
    const port: ControlPort = {
      async kick(c) {
        if (!up) throw new Error('connection refused');
        kicked.push(c);
      },
    };
    registry.setControlPort('edge', port);
    const s = rec({ server: 'edge' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.kill(s.id, 'abuse')).toBe('killing');
    expect((await store.get(s.id))!.status).toBe('killing');
    expect(registry.counts().killing).toBe(1);
    up = true;
    await new Promise((r) => setTimeout(r, 1200)); // first retry after 1 s
    expect(kicked).toEqual([{ server: 'edge', clientId: '1', protocol: 'rtmp' }]);
    expect((await store.get(s.id))!).toMatchObject({ status: 'killed', reason: 'abuse' });
    expect(events.at(-1)?.type).toBe('session.killed');
    registry.stop();
  });

  it('kill of a session whose server says the connection closed meanwhile → killed', async () => {
    const { store, registry } = setup();
    registry.setControlPort('edge', { kick: async () => Promise.reject(new Error('down')) });
    const s = rec({ server: 'edge' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.kill(s.id)).toBe('killing');
    await registry.connectionClosed('edge', '1');
    expect((await store.get(s.id))!.status).toBe('killed');
    expect(registry.counts().killing).toBe(0);
    registry.stop();
  });

  it('a join that races with the end of the session admits a new session instead of reviving the ended one', async () => {
    const { store, registry } = setup();
    const s = rec({ server: 'api' });
    await registry.admit({ session: s, conn: null, limits: noLimit });
    const again = rec({ key: s.key, server: 'api' });
    const joining = registry.admit({ session: again, conn: null, limits: noLimit }); // the store answers "joined" now
    const ended = registry.end(s.id, 'ended'); // and the session ends before the join is applied
    const r = await joining;
    await ended;
    expect(r.outcome).toBe('admitted');
    expect(r.session.id).toBe(again.id);
    expect(registry.live(s.id)).toBeUndefined();
    expect((await store.get(s.id))!.status).toBe('ended');
    expect(registry.live(again.id)).toBeDefined();
  });

  it('a kick no server ever confirms is given up after a while and recorded as killed', async () => {
    const { store, registry, advance } = setup();
    registry.setControlPort('edge', { kick: async () => Promise.reject(new Error('no API')) });
    const s = rec({ server: 'edge' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.kill(s.id)).toBe('killing');
    advance(KILL_GIVE_UP_MS);
    await new Promise((r) => setTimeout(r, 1300)); // the first retry (1 s) finds the time is up
    expect((await store.get(s.id))!.status).toBe('killed');
    expect(registry.counts().killing).toBe(0);
    registry.stop();
  });

  it('update hook on a killed or expired session says it may not go on', async () => {
    const { registry, advance } = setup();
    const s = rec({ server: 'edge', expiresAt: null });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.connectionAlive('edge', '1')).toEqual({ live: true });
    expect((await registry.connectionAlive('edge', 'unknown')).live).toBe(false);
    const t = rec({ server: 'edge', expiresAt: Date.now() });
    await registry.admit({ session: t, conn: { server: 'edge', clientId: '2', protocol: 'rtmp' }, limits: noLimit });
    advance(1);
    expect((await registry.connectionAlive('edge', '2')).live).toBe(false);
    registry.stop();
  });

  it('a close event after a kick still records its byte counters on the killed session', async () => {
    const { store, registry } = setup();
    registry.setControlPort('nms', { kick: async () => undefined });
    const s = rec({ server: 'nms' });
    await registry.admit({ session: s, conn: { server: 'nms', clientId: 'p1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.kill(s.id, 'kicked')).toBe('killed');
    await registry.connectionClosed('nms', 'p1', { bytesOut: 436_532 });
    expect((await store.get(s.id))!).toMatchObject({ status: 'killed', bytesOut: 436_532 });
  });

  it('a listener that throws or rejects does not stop the others', async () => {
    const { registry } = setup();
    const seen: string[] = [];
    registry.onEvent(() => {
      throw new Error('broken listener');
    });
    registry.onEvent(async () => Promise.reject(new Error('broken async listener')));
    registry.onEvent((e) => {
      seen.push(e.type);
    });
    await registry.admit({ session: rec(), conn: null, limits: noLimit });
    expect(seen).toEqual(['session.started']);
  });

  it('a client without a session (found by sync, refused) is kicked through the registry: recorded and told as killed', async () => {
    const { store, registry, events } = setup();
    const kicked: string[] = [];
    registry.setControlPort('edge', { kick: async (c) => void kicked.push(c.clientId) });
    const r = rec({ server: 'edge', clientId: '44', status: 'denied', reason: 'E_CREDENTIALS_REQUIRED' });
    expect(await registry.kickConnection({ server: 'edge', clientId: '44', protocol: 'rtmp' }, r, 'E_CREDENTIALS_REQUIRED')).toBe(true);
    expect(kicked).toEqual(['44']);
    expect(events.at(-1)).toMatchObject({ type: 'session.killed', session: { id: r.id, status: 'killed' } });
    expect((await store.get(r.id))!).toMatchObject({ status: 'killed', reason: 'E_CREDENTIALS_REQUIRED' });
    // the outbox tells the same as the row and the listeners
    expect((await store.listEvents(0, 100)).filter((e) => e.session.id === r.id).map((e) => e.type)).toEqual(['session.killed']);
  });

  it('a sync that finds a connection gone frees the slot at once; the session ends at the timeout', async () => {
    const { store, registry, advance } = setup(15);
    const one = { account: 'alice', maxSessions: 1, onLimit: 'deny' as const, streamMaxViewers: 0, busy: null };
    const s = rec({ server: 'edge', device: 'tv' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '3', protocol: 'rtmp' }, limits: one });
    await registry.connectionClosed('edge', '3');
    expect(await registry.accountUse('alice')).toEqual({ account: 'alice', sessions: 0, screens: 0 });
    expect(registry.live(s.id)?.status).toBe('active');
    expect((await registry.admit({ session: rec({ device: 'phone' }), conn: null, limits: one })).outcome).toBe('admitted');
    advance(16_000);
    await registry.sweep();
    expect((await store.get(s.id))!).toMatchObject({ status: 'ended', reason: 'timeout' });
  });

  it('a timeout the store cannot record (full disk) leaves the session live; the next sweep ends it, and its key still joins meanwhile', async () => {
    const { store, registry, advance } = setup(15);
    const s = rec({ server: 'api' });
    await registry.admit({ session: s, conn: null, limits: noLimit });
    const real = store.setStatus.bind(store);
    let fail = 1;
    store.setStatus = async (...a: Parameters<typeof real>) => {
      if (fail-- > 0) throw new Error('SQLITE_FULL: database or disk is full');
      return real(...a);
    };
    advance(16_000);
    await registry.sweep();
    expect(registry.live(s.id)?.status).toBe('active');
    const again = await registry.admit({ session: rec({ key: s.key, server: 'api' }), conn: null, limits: noLimit });
    expect(again.outcome === 'joined' && again.session.id).toBe(s.id);
    advance(16_000);
    expect(await registry.sweep()).toBe(1);
    expect((await store.get(s.id))!).toMatchObject({ status: 'ended', reason: 'timeout' });
  });

  it('an explicit end the store cannot record leaves the session active; ending a session being killed does not stop the kill', async () => {
    const { store, registry } = setup();
    const a = rec({ server: 'api' });
    await registry.admit({ session: a, conn: null, limits: noLimit });
    const real = store.setStatus.bind(store);
    store.setStatus = async () => Promise.reject(new Error('SQLITE_FULL'));
    await expect(registry.end(a.id)).rejects.toThrow(/SQLITE_FULL/);
    expect(registry.live(a.id)?.status).toBe('active');
    store.setStatus = real;
    registry.setControlPort('edge', { kick: async () => Promise.reject(new Error('down')) });
    const b = rec({ server: 'edge' });
    await registry.admit({ session: b, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect(await registry.kill(b.id)).toBe('killing');
    expect(await registry.end(b.id)).toBeUndefined();
    expect((await store.get(b.id))!.status).toBe('killing');
    expect(registry.counts().killing).toBe(1);
    registry.stop();
  });

  it('connections carry the instance id of the Usher process holding them, on disk too', async () => {
    const store = new MemoryStore();
    const sessions = loadConfig({ env: {} }).sessions;
    const registry = new Registry({ store, sessions, log: silentLogger, instance: 'host-a:42:beef' });
    const s = rec({ server: 'edge' });
    await registry.admit({ session: s, conn: { server: 'edge', clientId: '1', protocol: 'rtmp' }, limits: noLimit });
    expect((await store.listLive())[0].conns).toEqual([{ server: 'edge', clientId: '1', protocol: 'rtmp', instance: 'host-a:42:beef' }]);
  });
});
