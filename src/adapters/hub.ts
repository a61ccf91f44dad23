/**
 * The external media servers Usher controls: routes each hook call to its adapter and configured server,
 * registers each server's control port with the registry (kicks), and runs sync (list + reconcile).
 * The hub translates; admission decides (pipeline), the registry owns state.
 */
import type { Config, ServerConfig, ServerType } from '../config/schema.js';
import { SERVER_TYPES } from '../config/schema.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import { UsherError } from '../errors.js';
import type { Logger } from '../log.js';
import { uuidv7 } from '../core/ids.js';
import type { AdmissionRequest, SessionRecord } from '../core/types.js';
import type { Adapter, AdapterHost, ConnStats, HookRequest, HookResponse, LiveClient, LiveState, ServerControl } from './types.js';

export interface SyncReport {
  server: string;
  listed: number;
  ended: number;
  admitted: number;
  kicked: number;
  at: string;
}

export interface ServerInfo {
  name: string;
  type: ServerType;
  api: string;
  configured: boolean;
  canList: boolean;
  live: number;
  lastSync: SyncReport | null;
  lastSyncError: string | null;
}

export class ServerHub {
  private readonly servers = new Map<string, { cfg: ServerConfig; control: ServerControl; configured: boolean }>();
  private readonly lastSync = new Map<string, SyncReport>();
  private readonly lastError = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  readonly host: AdapterHost;

  constructor(
    private readonly config: Config,
    private readonly registry: Registry,
    private readonly pipeline: AdmissionPipeline,
    private readonly log: Logger,
    private readonly adapters: ReadonlyMap<ServerType, Adapter>,
  ) {
    this.host = {
      admit: (req) => pipeline.admit(req),
      connectionClosed: (server, clientId, stats) => registry.connectionClosed(server, clientId, stats),
      connectionAlive: (server, clientId, stats, unknown) => this.connectionAlive(server, clientId, stats, unknown),
      now: () => registry.now(),
      relayCandidates: (name, having) => this.relayCandidates(name, having),
      isRelay: async (server, clientId) => {
        const s = this.servers.get(server);
        return s?.cfg.api && s.control.isRelay ? s.control.isRelay(clientId) : false;
      },
    };
    for (const cfg of config.servers) this.add(cfg, true);
  }

  /** An update for a connection: refreshed when known; admitted or refused by the rules when unknown (as sync does). */
  private async connectionAlive(server: string, clientId: string, stats: ConnStats | undefined, unknown: AdmissionRequest | undefined): Promise<LiveState> {
    const live = await this.registry.connectionAlive(server, clientId, stats);
    if (live.live || live.code !== 'E_NOT_FOUND' || !unknown) return live;
    const d = await this.pipeline.admit({ ...unknown, server, clientId });
    return d.allow ? { live: true, admitted: { account: d.account, expiresAt: d.expiresAt } } : { live: false, code: d.code, reason: d.reason };
  }

  /** Streams named `…/name` with a live session of kind `having`; relays start rarely, so a scan is fine. */
  private async relayCandidates(name: string, having: 'input' | 'viewer'): Promise<string[]> {
    const { items } = await this.registry.streams({ limit: Number.MAX_SAFE_INTEGER, offset: 0 });
    return items
      .filter((u) => u.byKind[having] > 0 && (u.stream === name || u.stream.endsWith(`/${name}`)))
      .map((u) => u.stream);
  }

  private add(cfg: ServerConfig, configured: boolean): void {
    const adapter = this.adapters.get(cfg.type);
    if (!adapter) return;
    const control = adapter.control(cfg, () => this.registry.now());
    this.servers.set(cfg.name, { cfg, control, configured });
    this.registry.setControlPort(cfg.name, control);
  }

  /**
   * The server a hook call belongs to: `?server=NAME`, else the only configured server of that type, else an
   * implicit one named after the type (hooks work before any `servers:` entry exists; it has no API to kick or list).
   */
  resolve(type: string, name: string | null): ServerConfig {
    if (!(SERVER_TYPES as readonly string[]).includes(type) || !this.adapters.has(type as ServerType)) {
      throw new UsherError('E_NOT_FOUND', `no adapter for "${type}"`);
    }
    if (name) {
      const s = this.servers.get(name);
      if (!s || s.cfg.type !== type) throw new UsherError('E_SERVER_UNKNOWN', `no ${type} server named "${name}" in servers:`, 'server');
      return s.cfg;
    }
    const ofType = [...this.servers.values()].filter((s) => s.cfg.type === type);
    const configured = ofType.filter((s) => s.configured);
    if (configured.length === 1) return configured[0].cfg;
    if (configured.length > 1) throw new UsherError('E_SERVER_UNKNOWN', `several ${type} servers are configured; start the hook URL's query with ?server=NAME`, 'server');
    const implicit = ofType[0]?.cfg;
    if (implicit) return implicit;
    const cfg: ServerConfig = {
      name: type, type: type as ServerType, api: '', user: '', password: '', token: '', secret: '',
      controlPath: '/control', statPath: '/stat', timeoutMs: 3000,
    };
    this.add(cfg, false);
    return cfg;
  }

  async handleHook(type: string, req: HookRequest): Promise<HookResponse> {
    const server = this.resolve(type, serverParam(req.query));
    return this.adapters.get(server.type)!.handle(req, server, this.host);
  }

  names(): string[] {
    return [...this.servers.keys()];
  }

  info(): ServerInfo[] {
    const live = this.registry.connectionCounts();
    return [...this.servers.values()].map(({ cfg, control, configured }) => ({
      name: cfg.name,
      type: cfg.type,
      api: cfg.api,
      configured,
      canList: typeof control.list === 'function' && cfg.api !== '',
      live: live.get(cfg.name) ?? 0,
      lastSync: this.lastSync.get(cfg.name) ?? null,
      lastSyncError: this.lastError.get(cfg.name) ?? null,
    }));
  }

  /**
   * Reconcile one server: sessions it no longer has become `ended` (or `killed` when a kick was pending);
   * clients Usher does not know (connected while Usher was down) are admitted, or kicked when the rules refuse them.
   */
  async sync(name: string): Promise<SyncReport> {
    const s = this.servers.get(name);
    if (!s) throw new UsherError('E_NOT_FOUND', `no server named "${name}"`);
    if (!s.control.list || s.cfg.api === '') throw new UsherError('E_CONFLICT', `server "${name}" has no API to list clients`);
    // Only connections known before the list was asked for can be missing from it: one admitted by a hook while
    // the list call was under way is not in the list, and must not be taken for gone.
    const known = this.registry.connections(name);
    let clients: LiveClient[];
    try {
      clients = await s.control.list();
    } catch (e) {
      this.lastError.set(name, (e as Error).message);
      throw new UsherError('E_UNAVAILABLE', `cannot list clients of "${name}": ${(e as Error).message}`);
    }
    this.lastError.delete(name);
    const listed = new Set(clients.map((c) => c.clientId));
    let ended = 0;
    let admitted = 0;
    let kicked = 0;
    const gone = known.filter((clientId) => !listed.has(clientId));
    for (const clientId of gone) {
      await this.registry.connectionClosed(name, clientId);
      ended++;
    }
    for (const c of clients) {
      if (this.registry.byConn(name, c.clientId)) continue;
      const d = await this.pipeline.admit({
        server: name, protocol: c.protocol, action: c.action, stream: c.stream, ip: c.ip,
        token: c.token, query: c.query, clientId: c.clientId,
        ...(c.relay ? { kind: 'output' as const, relay: true } : {}),
      });
      if (d.allow) {
        admitted++;
        continue;
      }
      // through the registry, like every kick: recorded, told to metrics and webhooks
      const conn = { server: name, clientId: c.clientId, protocol: c.protocol };
      if (await this.registry.kickConnection(conn, unknownRecord(name, c, this.registry.now()), d.code ?? 'denied')) kicked++;
    }
    const report: SyncReport = { server: name, listed: clients.length, ended, admitted, kicked, at: new Date(this.registry.now()).toISOString() };
    this.lastSync.set(name, report);
    this.log.info(report, 'sync done');
    return report;
  }

  async syncAll(): Promise<SyncReport[]> {
    const out: SyncReport[] = [];
    for (const [name, s] of this.servers) {
      if (!s.configured || !s.control.list || s.cfg.api === '') continue;
      try {
        out.push(await this.sync(name));
      } catch (e) {
        this.log.warn({ server: name, err: (e as Error).message }, 'sync failed');
      }
    }
    return out;
  }

  start(): void {
    if (this.timer || this.config.servers.length === 0) return;
    this.timer = setInterval(() => void this.syncAll(), this.config.sync.intervalSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

/**
 * The configured server a hook call names: the hook URL's *first* query parameter when it is `server`, its value
 * cut at a `?`. Only the first, because servers append the client's own query after theirs: nginx-rtmp with
 * `notify_method get` sends `…?server=edge1?app=live&…&server=evil` (its fields after a second `?`, the client's
 * args raw at the end), so any later `server=` may be the client's, and the value of ours runs on to the next `&`.
 */
export function serverParam(query: URLSearchParams): string | null {
  for (const [k, v] of query) {
    if (k !== 'server') return null;
    const q = v.indexOf('?');
    return q >= 0 ? v.slice(0, q) : v;
  }
  return null;
}

/** A stand-in record for a client Usher never admitted (kicked during sync). */
function unknownRecord(server: string, c: LiveClient, now: number): SessionRecord {
  return {
    id: uuidv7(now), key: '', kind: c.action === 'publish' ? ('input' as const) : ('viewer' as const), status: 'denied' as const, reason: null,
    stream: c.stream, account: null, plan: null, device: null, role: null, ip: c.ip, protocol: c.protocol, server,
    clientId: c.clientId, userAgent: null, token: null, authMethod: null, counted: false, startedAt: now, endedAt: now,
    lastSeen: now, expiresAt: null, bytesIn: 0, bytesOut: 0,
  };
}
