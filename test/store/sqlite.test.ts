import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/store/sqlite.js';
import { MIGRATIONS } from '../../src/store/migrations.js';
import { cleanup, tmpDir } from '../helpers/usher.js';
import { rec, storeSuite } from './suite.js';

storeSuite('sqlite (file, WAL, synchronous=full)', async () => {
  const dir = tmpDir();
  return { store: new SqliteStore({ path: join(dir, 'u.db'), synchronous: 'full' }), cleanup: () => cleanup(dir) };
});

describe('sqlite specifics', () => {
  it('migrates a new file to the newest schema version, in WAL mode, and reopens without redoing it', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const s = new SqliteStore({ path, synchronous: 'full' });
    await s.init();
    await s.close();
    const raw = new Database(path);
    expect(raw.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(raw.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw.close();
    const again = new SqliteStore({ path, synchronous: 'normal' });
    await again.init();
    await again.close();
    const raw2 = new Database(path);
    expect(raw2.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    raw2.close();
    cleanup(dir);
  });

  it('refuses a database from a newer Usher', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const raw = new Database(path);
    raw.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    raw.close();
    await expect(new SqliteStore({ path, synchronous: 'full' }).init()).rejects.toThrow(/newer/);
    cleanup(dir);
  });

  it('group commit: concurrent admissions share transactions, and all are on disk when they resolve', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const s = new SqliteStore({ path, synchronous: 'full' });
    await s.init();
    const sessions = Array.from({ length: 200 }, () => rec({ account: null, counted: false }));
    await Promise.all(sessions.map((session) => s.admit({ session, conn: null, limits: { account: null, maxSessions: 0, onLimit: 'deny', streamMaxViewers: 0, busy: null } })));
    expect(s.commitStats.ops).toBe(200);
    expect(s.commitStats.batches).toBeLessThan(200);
    // a second connection (another process would see the same) reads every row
    const other = new Database(path, { readonly: true });
    expect(other.prepare('SELECT count(*) FROM sessions').pluck().get()).toBe(200);
    other.close();
    await s.close();
    cleanup(dir);
  });
});

describe('sqlite: admission state survives a restart', () => {
  it('after reopening, limits still count the live sessions and the same key still joins', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const limits = { account: 'alice', maxSessions: 2, onLimit: 'deny' as const, streamMaxViewers: 0, busy: null };
    const a = new SqliteStore({ path, synchronous: 'full' });
    await a.init();
    const first = rec();
    await a.admit({ session: first, conn: null, limits });
    await a.admit({ session: rec(), conn: null, limits });
    const ended = rec({ account: 'alice' });
    await a.close();
    const b = new SqliteStore({ path, synchronous: 'full' });
    await b.init();
    expect((await b.admit({ session: ended, conn: null, limits })).outcome).toBe('limit');
    const again = await b.admit({ session: rec({ key: first.key }), conn: null, limits });
    expect(again.outcome === 'joined' && again.session.id).toBe(first.id);
    await b.setStatus(first.id, 'ended', 'timeout', Date.now());
    expect((await b.admit({ session: rec(), conn: null, limits })).outcome).toBe('admitted');
    await b.close();
    cleanup(dir);
  });
});

describe('sqlite: the file and its counters', () => {
  it('creates the database, its WAL and shared-memory files readable by their owner only (they hold live tokens)', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const old = process.umask(0o022);
    try {
      const s = new SqliteStore({ path, synchronous: 'full' });
      await s.init();
      await s.admit({ session: rec(), conn: null, limits: { account: null, maxSessions: 0, onLimit: 'deny', streamMaxViewers: 0, busy: null } });
      for (const f of [path, `${path}-wal`, `${path}-shm`]) expect((statSync(f).mode & 0o777).toString(8)).toBe('600');
      await s.close();
    } finally {
      process.umask(old);
      cleanup(dir);
    }
  });

  it('connections and denial counters survive a restart: a connected session still holds its slot', async () => {
    const dir = tmpDir();
    const path = join(dir, 'u.db');
    const one = { account: 'alice', maxSessions: 1, onLimit: 'deny' as const, streamMaxViewers: 0, busy: null };
    const a = new SqliteStore({ path, synchronous: 'full' });
    await a.init();
    const held = rec({ device: 'tv' });
    await a.admit({ session: held, conn: { server: 'edge', clientId: '1', protocol: 'rtmp', instance: 'usher-a' }, limits: one });
    await a.countDenial('10.1.1.1', 'E_TOKEN_INVALID', 5);
    await a.close();
    const b = new SqliteStore({ path, synchronous: 'full' });
    await b.init();
    expect((await b.admit({ session: rec({ device: 'phone' }), conn: null, limits: one })).outcome).toBe('limit');
    expect((await b.listLive())[0].conns).toEqual([{ server: 'edge', clientId: '1', protocol: 'rtmp', instance: 'usher-a' }]);
    await b.detach({ server: 'edge', clientId: '1' });
    expect((await b.admit({ session: rec({ device: 'phone' }), conn: null, limits: one })).outcome).toBe('admitted');
    await b.countDenial('10.1.1.1', 'E_TOKEN_INVALID', 6);
    expect((await b.listDenialCounts({ limit: 5, offset: 0 })).items).toEqual([{ source: '10.1.1.1', code: 'E_TOKEN_INVALID', count: 2, firstAt: 5, lastAt: 6 }]);
    await b.close();
    cleanup(dir);
  });
});

describe('sqlite: a batch that fails is rolled back in memory too', () => {
  it('a denial counted in a batch that rolls back is counted once when the batch is run again one by one', async () => {
    const { SqliteEngine } = await import('../../src/store/sqlite-engine.js');
    const dir = tmpDir();
    const e = new SqliteEngine({ path: join(dir, 'u.db'), synchronous: 'normal' });
    e.init();
    const dup = rec();
    e.admit({ session: dup, conn: null, limits: { account: null, maxSessions: 0, onLimit: 'deny', streamMaxViewers: 0, busy: null } });
    // the second op fails (same id again: a primary-key clash), so the batch rolls back and each op runs alone
    const results = e.runBatch([['countDenial', ['10.2.2.2', 'E_TOKEN_INVALID', 7]], ['recordDenied', [{ ...dup, status: 'denied' }]]]);
    expect(results.map((r) => r.ok)).toEqual([true, false]);
    expect(e.listDenialCounts({ limit: 5, offset: 0 }).items).toEqual([{ source: '10.2.2.2', code: 'E_TOKEN_INVALID', count: 1, firstAt: 7, lastAt: 7 }]);
    e.close();
    cleanup(dir);
  });
});
