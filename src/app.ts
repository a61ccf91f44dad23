/**
 * Wiring: builds every component from one frozen config, in dependency order, and tears them down in reverse.
 * No globals: everything a component needs is handed to it here.
 */
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import type { Server } from 'node:http';
import { allAdapters } from './adapters/index.js';
import { ServerHub } from './adapters/hub.js';
import { Credentials } from './auth/credentials.js';
import { parseHostPort, type Config } from './config/schema.js';
import { AccountsAndPlans } from './core/accounts-and-plans.js';
import { AdmissionPipeline } from './core/pipeline.js';
import { Registry } from './core/registry.js';
import type { HttpContext } from './http/context.js';
import { createHttpServer } from './http/server.js';
import type { Logger } from './log.js';
import { Metrics } from './metrics.js';
import { createStore } from './store/index.js';
import type { Store } from './store/store.js';
import { startRtsp, type RtspHandle } from './rtsp/index.js';

export interface App {
  config: Config;
  store: Store;
  registry: Registry;
  pipeline: AdmissionPipeline;
  servers: ServerHub;
  http: Server;
  rtsp: RtspHandle | undefined;
  /** Actual HTTP port (useful with port 0 in tests). */
  httpPort(): number;
  stop(): Promise<void>;
}

export async function startApp(config: Config, log: Logger): Promise<App> {
  const store = createStore(config);
  await store.init();
  const accounts = new AccountsAndPlans(store, config.plans);
  await accounts.load();
  // this process's id, stamped on every connection it holds: a cluster routes a kick to the instance holding it
  const instance = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const registry = new Registry({ store, sessions: config.sessions, log: log.child({ c: 'registry' }), instance });
  await registry.load();
  const pipeline = new AdmissionPipeline({ config, registry, credentials: new Credentials(config.auth), accounts, store, log: log.child({ c: 'admission' }) });
  const servers = new ServerHub(config, registry, pipeline, log.child({ c: 'servers' }), allAdapters());
  const metrics = new Metrics(registry, pipeline, () => ('commitStats' in store ? (store as { commitStats: { batches: number; ops: number } }).commitStats : undefined));
  const ctx: HttpContext = { config, log, store, registry, pipeline, accounts, metrics, servers };

  const http = await createHttpServer(ctx);
  const { host, port } = parseHostPort(config.http.listen)!;
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const rtsp = config.rtsp.enabled ? await startRtsp({ config, registry, pipeline, log: log.child({ c: 'rtsp' }) }) : undefined;

  registry.start();
  servers.start();
  const httpPort = (): number => (http.address() as AddressInfo).port;
  log.info({ http: `${host}:${httpPort()}`, rtsp: rtsp?.address(), store: config.store.driver }, 'usher started');

  return {
    config, store, registry, pipeline, servers, http, rtsp,
    httpPort,
    async stop() {
      servers.stop();
      registry.stop();
      await rtsp?.close();
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      await store.close();
    },
  };
}
