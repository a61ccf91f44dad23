/**
 * The RTSP server with the real core around it (memory store, registry, admission pipeline, signed tokens) and a
 * clock the test moves: timer behaviour (reaping, request timeouts) is checked by advancing time and running the
 * reaper, never by sleeping. Real sockets; no HTTP layer.
 */
import { Credentials } from '../../src/auth/credentials.js';
import { signToken } from '../../src/auth/signed-url.js';
import { AccountsAndPlans } from '../../src/core/accounts-and-plans.js';
import { AdmissionPipeline } from '../../src/core/pipeline.js';
import { Registry } from '../../src/core/registry.js';
import type { SessionRecord } from '../../src/core/types.js';
import { silentLogger } from '../../src/log.js';
import { RtspServer } from '../../src/rtsp/server.js';
import { createStore } from '../../src/store/index.js';
import type { Store } from '../../src/store/store.js';
import { cleanup, testConfig } from '../helpers/usher.js';

export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

export function manualClock(start = Date.now()): ManualClock {
  let t = start;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

export interface RtspHarness {
  server: RtspServer;
  registry: Registry;
  store: Store;
  clock: ManualClock;
  port: number;
  /** `rtsp://127.0.0.1:<port>/<path>`, with `?tkn=` for the token when given. */
  url(path: string, token?: string): string;
  sign(stream: string, account: string, action?: 'play' | 'publish'): string;
  /** Every session the store holds for a stream (any status). */
  sessions(stream: string): Promise<SessionRecord[]>;
  /** Advances the clock and runs the reaper once. */
  elapse(ms: number): void;
  stop(): Promise<void>;
}

export async function startRtspHarness(overrides: Record<string, unknown> = {}): Promise<RtspHarness> {
  const { config, dir } = testConfig({
    store: { driver: 'memory' },
    ...overrides,
    rtsp: { enabled: true, listen: '127.0.0.1:0', ...(overrides.rtsp as object | undefined) },
  });
  const clock = manualClock();
  const store = createStore(config);
  await store.init();
  const accounts = new AccountsAndPlans(store, config.plans);
  await accounts.load();
  const registry = new Registry({ store, sessions: config.sessions, log: silentLogger, now: clock.now });
  await registry.load();
  const pipeline = new AdmissionPipeline({ config, registry, credentials: new Credentials(config.auth), accounts, store, log: silentLogger });
  const server = new RtspServer({ config, registry, pipeline, log: silentLogger, now: clock.now });
  await server.start();
  const port = server.listenPort;
  return {
    server, registry, store, clock, port,
    url: (path, token) => `rtsp://127.0.0.1:${port}/${path}${token ? `?tkn=${token}` : ''}`,
    sign: (stream, account, action = 'play') => signToken(config.auth.signedUrls.secret, { stream, account, action, ttlSeconds: 3600 }),
    sessions: async (stream) => (await store.list({ stream }, { limit: 100, offset: 0 })).items,
    elapse(ms) {
      clock.advance(ms);
      server.reap();
    },
    async stop() {
      await server.close();
      registry.stop();
      await store.close();
      cleanup(dir);
    },
  };
}
