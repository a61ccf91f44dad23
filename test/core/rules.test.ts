import { describe, expect, it } from 'vitest';
import { busyPolicy, narrowClaims } from '../../src/core/rules.js';
import type { Action, Claims } from '../../src/core/types.js';

const claims = (o: Partial<Claims> = {}): Claims => ({
  account: null, plan: null, device: null, role: null, expiresAt: null,
  actions: new Set<Action>(['play']), streams: null, method: 'signed', ...o,
});

describe('narrowClaims: a backend login may only narrow what the credential granted (live555\'s rule)', () => {
  it('fills what the credential left open, but never replaces what it said', () => {
    const n = narrowClaims(claims({ account: 'alice', plan: null }), { account: 'mallory', plan: 'gold', device: 'tv', role: 'viewer' });
    expect(n).toMatchObject({ account: 'alice', plan: 'gold', device: 'tv', role: 'viewer', method: 'signed' });
  });

  it('cannot add an action, widen the streams, or extend the lifetime', () => {
    const granted = claims({ actions: new Set<Action>(['play']), streams: ['live/*'], expiresAt: 5_000 });
    const n = narrowClaims(granted, { actions: new Set<Action>(['play', 'publish']), streams: ['*'], expiresAt: 9_000 });
    expect([...n.actions]).toEqual(['play']);
    expect(n.streams).toEqual(['live/*']);
    expect(n.expiresAt).toBe(5_000);
  });

  it('can remove actions, narrow the streams and shorten the lifetime', () => {
    const granted = claims({ actions: new Set<Action>(['play', 'publish']), streams: ['live/*', 'vod/a'], expiresAt: null });
    const n = narrowClaims(granted, { actions: new Set<Action>(['play']), streams: ['live/*'], expiresAt: 3_000 });
    expect([...n.actions]).toEqual(['play']);
    expect(n.streams).toEqual(['live/*']);
    expect(n.expiresAt).toBe(3_000);
    // a credential good for any stream takes the backend's list
    expect(narrowClaims(claims(), { streams: ['live/demo'] }).streams).toEqual(['live/demo']);
    // a pattern is kept only when the backend's allows all of it
    expect(narrowClaims(claims({ streams: ['live/*'] }), { streams: ['live/demo'] }).streams).toEqual([]);
  });
});

describe('busyPolicy', () => {
  const config = { rtsp: { onBusyPath: 'refuse' } } as Parameters<typeof busyPolicy>[0];
  it('applies rtsp.onBusyPath to inputs of the built-in server only', () => {
    expect(busyPolicy(config, 'builtin', 'input')).toBe('refuse');
    expect(busyPolicy(config, 'builtin', 'viewer')).toBeNull();
    expect(busyPolicy(config, 'edge1', 'input')).toBeNull();
  });
});

describe('the pipeline applies the backend login through narrowClaims', () => {
  it('a backend that tries to grant publish to a play token does not widen it', async () => {
    const { Credentials } = await import('../../src/auth/credentials.js');
    const { signToken } = await import('../../src/auth/signed-url.js');
    const { loadConfig } = await import('../../src/config/load.js');
    const { AccountsAndPlans } = await import('../../src/core/accounts-and-plans.js');
    const { AdmissionPipeline } = await import('../../src/core/pipeline.js');
    const { Registry } = await import('../../src/core/registry.js');
    const { silentLogger } = await import('../../src/log.js');
    const { MemoryStore } = await import('../../src/store/memory.js');
    const config = loadConfig({ env: {}, overrides: { auth: { signedUrls: { secret: 's3cret' }, failureDelayMs: 0 } } });
    const store = new MemoryStore();
    const accounts = new AccountsAndPlans(store, config.plans);
    const registry = new Registry({ store, sessions: config.sessions, log: silentLogger });
    const backend = {
      login: async () => ({ actions: new Set<Action>(['play', 'publish']), streams: ['*'], account: 'someone-else' }),
      forget: () => undefined,
    };
    const p = new AdmissionPipeline({ config, registry, credentials: new Credentials(config.auth), accounts, store, log: silentLogger, backend });
    const token = signToken('s3cret', { stream: 'live/a', account: 'alice', action: 'play', ttlSeconds: 60 });
    const base = { server: 'api', protocol: 'hls', stream: 'live/a', ip: '10.0.0.1', token };
    expect((await p.admit({ ...base, action: 'publish' })).code).toBe('E_STREAM_FORBIDDEN');
    const play = await p.admit({ ...base, action: 'play' });
    expect(play).toMatchObject({ allow: true, account: 'alice' });
    expect((await p.admit({ ...base, action: 'play', stream: 'live/b', token: signToken('s3cret', { stream: 'live/a', account: 'alice', ttlSeconds: 60 }) })).code).toBe('E_STREAM_FORBIDDEN');
  });
});
