import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { parseDuration } from '../../src/config/duration.js';
import { tmpDir } from '../helpers/usher.js';

function fails(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('expected a ConfigError');
}

describe('config: defaults → file → env → validate → freeze', () => {
  it('has the documented defaults and is frozen', () => {
    const c = loadConfig({ env: {} });
    expect(c.http.listen).toBe('127.0.0.1:8088');
    expect(c.rtsp).toMatchObject({ enabled: true, listen: '127.0.0.1:8554', udpPorts: '40000-40999' });
    expect(c.store).toMatchObject({ driver: 'sqlite', path: './data/usher.db' });
    expect(c.sessions).toMatchObject({ viewerMode: 14, inputMode: 15, outputMode: 15, unspecifiedMode: 0, timeoutSeconds: 15, deniedMemorySeconds: 600, tokenParam: 'tkn' });
    expect(c.auth.backend).toMatchObject({ format: 'json', intervalSeconds: 10, cacheSeconds: 60, timeoutMs: 2000, failMode: 'closed' });
    expect(c.plans.default).toMatchObject({ maxSessions: 0, onLimit: 'deny' });
    expect(c.sync.intervalSeconds).toBe(60);
    expect(Object.isFrozen(c.http)).toBe(true);
    expect(() => ((c.http as { listen: string }).listen = 'x')).toThrow();
  });

  it('reads a YAML file, then the environment wins', () => {
    const dir = tmpDir();
    const file = join(dir, 'usher.yaml');
    writeFileSync(file, 'http:\n  listen: 127.0.0.1:9000\nsessions:\n  timeoutSeconds: 30s\nplans:\n  default: { maxSessions: 2, onLimit: killOldest }\n');
    const c = loadConfig({ file, env: { USHER_HTTP_LISTEN: '127.0.0.1:9001', USHER_SESSIONS_DENIED_MEMORY_SECONDS: '5m' } });
    expect(c.http.listen).toBe('127.0.0.1:9001');
    expect(c.sessions.timeoutSeconds).toBe(30);
    expect(c.sessions.deniedMemorySeconds).toBe(300);
    expect(c.plans.default).toMatchObject({ maxSessions: 2, onLimit: 'killOldest' });
  });

  it('env names follow the key path: USHER_AUTH_SIGNED_URLS_SECRET, USHER_STORE_PATH, lists as JSON or commas', () => {
    const c = loadConfig({ env: { USHER_AUTH_SIGNED_URLS_SECRET: 'abc', USHER_STORE_PATH: '/tmp/x.db', USHER_AUTH_JWT_ALGORITHMS: 'HS256,HS512', USHER_RTSP_ENABLED: 'false' } });
    expect(c.auth.signedUrls.secret).toBe('abc');
    expect(c.store.path).toBe('/tmp/x.db');
    expect(c.auth.jwt.algorithms).toEqual(['HS256', 'HS512']);
    expect(c.rtsp.enabled).toBe(false);
  });

  it('an unknown key names the key', () => {
    expect(fails(() => loadConfig({ env: {}, overrides: { http: { lisen: 'x' } } })).key).toBe('http.lisen');
    expect(fails(() => loadConfig({ env: { USHER_HTTP_LISEN: 'x' } })).key).toBe('USHER_HTTP_LISEN');
  });

  it('a bad value names the key and says what is expected', () => {
    const e = fails(() => loadConfig({ env: { USHER_SESSIONS_VIEWER_MODE: '99' } }));
    expect(e.key).toBe('sessions.viewerMode');
    expect(e.message).toMatch(/sessions\.viewerMode.*<= 15/);
    expect(fails(() => loadConfig({ env: {}, overrides: { plans: { default: { onLimit: 'kick' } } } })).key).toBe('plans.default.onLimit');
    expect(fails(() => loadConfig({ env: {}, overrides: { servers: [{ name: 'a', type: 'wowza' }] } })).key).toBe('servers[0].type');
    expect(fails(() => loadConfig({ env: {}, overrides: { sessions: { timeoutSeconds: 'soon' } } })).key).toBe('sessions.timeoutSeconds');
    expect(fails(() => loadConfig({ env: {}, overrides: { sessions: { deniedMemorySeconds: '100000000000d' } } })).key).toBe('sessions.deniedMemorySeconds');
    expect(fails(() => loadConfig({ env: {}, overrides: { plans: { gold: { maxDurationSeconds: 1e308 } } } })).key).toBe('plans.gold.maxDurationSeconds');
    expect(fails(() => loadConfig({ env: {}, overrides: { servers: [{ name: 'a', type: 'srs', api: 'http://u:p@127.0.0.1:1985' }] } })).key).toBe('servers[0].api');
  });

  it('a file that adds a plan keeps the default plan; one that sets default overrides it', () => {
    const c = loadConfig({ env: {}, overrides: { plans: { gold: { maxSessions: 3 } } } });
    expect(Object.keys(c.plans).sort()).toEqual(['default', 'gold']);
    expect(c.plans.default).toMatchObject({ maxSessions: 0, onLimit: 'deny' });
    expect(loadConfig({ env: {}, overrides: { plans: { default: { maxSessions: 2 } } } }).plans.default.maxSessions).toBe(2);
  });

  it('refuses a non-loopback listen address without an admin token', () => {
    expect(fails(() => loadConfig({ env: { USHER_HTTP_LISTEN: '0.0.0.0:8088' } })).key).toBe('http.adminToken');
    expect(loadConfig({ env: { USHER_HTTP_LISTEN: '0.0.0.0:8088', USHER_HTTP_ADMIN_TOKEN: 'a-long-enough-admin-token' } }).http.listen).toBe('0.0.0.0:8088');
  });

  it('durations: 90, 90s, 5m, 1h, 1d', () => {
    expect([parseDuration('90'), parseDuration('90s'), parseDuration('5m'), parseDuration('1h'), parseDuration('1d'), parseDuration('1h30m')]).toEqual([90, 90, 300, 3600, 86400, 5400]);
    expect(parseDuration('soon')).toBeUndefined();
    expect(parseDuration('-5')).toBeUndefined();
  });
});
