/**
 * Every configuration key with its default (SPEC §10). The Config type is inferred from this.
 */
import { t, type Infer } from './spec.js';

const hostPort = (v: string): string | undefined =>
  parseHostPort(v) ? undefined : 'expected host:port (e.g. 127.0.0.1:8088)';

export function parseHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^(\[[^\]]+\]|[^:]+):(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ''), port };
}

export function parsePortRange(v: string): { min: number; max: number } | undefined {
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(v.trim());
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = Number(m[2]);
  if (min < 1024 || max > 65535 || max < min + 1) return undefined;
  return { min, max };
}

const url = (v: string): string | undefined => {
  if (v === '') return undefined;
  try {
    const u = new URL(v);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'expected an http(s) URL';
    // credentials in a URL end up in error messages and logs: they have keys of their own
    if (u.username || u.password) return 'must not carry user:password (use the user and password keys)';
    return undefined;
  } catch {
    return 'expected an http(s) URL';
  }
};

const redisUrl = (v: string): string | undefined => (v === '' || /^rediss?:\/\//.test(v) ? undefined : 'expected redis://…');
const pgUrl = (v: string): string | undefined => (v === '' || /^postgres(ql)?:\/\//.test(v) ? undefined : 'expected postgres://…');

const mode = () => t.int(0, 0, 15);

export const planSpec = t.obj({
  /** Concurrent viewer sessions per account; 0 = unlimited. */
  maxSessions: t.int(0, 0),
  onLimit: t.enum(['deny', 'killOldest'] as const, 'deny'),
  exemptStreams: t.list(t.str()),
  exemptProtocols: t.list(t.str()),
  /** Longest a session of this plan may last (pay-per-minute, trial); 0 = no limit. */
  maxDurationSeconds: t.dur(0),
});

export const SERVER_TYPES = ['nginx-rtmp', 'mediamtx', 'srs', 'ome', 'mistserver', 'flussonic', 'nms'] as const;

export const serverSpec = t.obj({
  name: t.str('', (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'expected a name of letters, digits, _ . -')),
  type: t.enum(SERVER_TYPES, 'nginx-rtmp'),
  /** Base URL of the server's HTTP API (nginx-rtmp: the http server hosting rtmp_control and rtmp_stat). */
  api: t.str('', url),
  user: t.str(),
  password: t.str(),
  token: t.str(),
  /** Shared secret (OvenMediaEngine's AdmissionWebhooks SecretKey, X-OME-Signature). */
  secret: t.str(),
  controlPath: t.str('/control'),
  statPath: t.str('/stat'),
  timeoutMs: t.int(3000, 100, 60000),
});

export const configSchema = t.obj({
  http: t.obj({
    listen: t.str('127.0.0.1:8088', hostPort),
    adminToken: t.str(),
    metricsToken: t.str(),
    maxBodyBytes: t.int(64 * 1024, 1024, 16 * 1024 * 1024),
    requestTimeoutMs: t.int(10_000, 100),
    headersTimeoutMs: t.int(10_000, 100),
    keepAliveTimeoutMs: t.int(5_000, 100),
  }),
  rtsp: t.obj({
    enabled: t.bool(true),
    listen: t.str('127.0.0.1:8554', hostPort),
    udpPorts: t.str('40000-40999', (v) => (parsePortRange(v) ? undefined : 'expected a range like 40000-40999 (ports 1024-65535)')),
    /** Seconds announced in `Session: id;timeout=N`; an RTSP session silent for longer is reaped. */
    sessionTimeoutSeconds: t.dur(60, 1),
    /** A connection that has not sent one valid request within this long is closed, as is one whose request (or interleaved frame), once begun, is not complete within it. */
    requestTimeoutSeconds: t.dur(10, 1),
    /** A reader whose socket queue passes this many bytes is dropped (slow or dead reader). */
    maxReaderQueueBytes: t.int(4 * 1024 * 1024, 64 * 1024),
    /** Readers' writes are held up to this many ms so one socket write carries a whole video frame; 0 = none. */
    writeCoalesceMs: t.int(5, 0, 100),
    maxRequestBytes: t.int(16 * 1024, 1024, 1024 * 1024),
    maxHeaders: t.int(64, 8, 1024),
    maxConnections: t.int(10_000, 1),
    /** TCP connections one client address may hold at once, so that one address cannot take every slot. */
    maxConnectionsPerIp: t.int(100, 1),
    /** What a second publisher on a busy path gets: refused (default) or it replaces the first. */
    onBusyPath: t.enum(['refuse', 'replace'] as const, 'refuse'),
    authMethods: t.list(t.enum(['basic', 'digest'] as const, 'basic'), ['basic']),
  }),
  store: t.obj({
    driver: t.enum(['sqlite', 'memory', 'cluster'] as const, 'sqlite'),
    path: t.str('./data/usher.db'),
    /** SQLite `synchronous`: full = fsync every commit (group commit keeps it cheap); normal = survives a process crash, not a power loss. */
    synchronous: t.enum(['full', 'normal'] as const, 'full'),
    redisUrl: t.str('', redisUrl),
    postgresUrl: t.str('', pgUrl),
  }),
  sessions: t.obj({
    viewerMode: t.int(14, 0, 15),
    inputMode: t.int(15, 0, 15),
    outputMode: t.int(15, 0, 15),
    unspecifiedMode: mode(),
    timeoutSeconds: t.dur(15, 1),
    deniedMemorySeconds: t.dur(600, 0),
    tokenParam: t.str('tkn', (v) => (/^[A-Za-z0-9_.-]+$/.test(v) ? undefined : 'expected a query parameter name')),
  }),
  auth: t.obj({
    signedUrls: t.obj({ secret: t.str() }),
    jwt: t.obj({
      secret: t.str(),
      jwksFile: t.str(),
      algorithms: t.list(
        t.enum(['HS256', 'HS384', 'HS512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const, 'HS256'),
        ['HS256'],
        (v) => (v.length === 0 ? 'at least one algorithm' : undefined),
      ),
      issuer: t.str(),
      audience: t.str(),
    }),
    /** stream name → publish key (a static per-stream key, as OBS users expect). */
    streamKeys: t.map(t.str()),
    anonymousPlay: t.bool(false),
    /** A refused credential is answered after a random delay of 0..N ms (MediaMTX-style), so guessing gets slow. */
    failureDelayMs: t.int(1000, 0, 10_000),
    backend: t.obj({
      loginUrl: t.str('', url),
      logoutUrl: t.str('', url),
      statusUrl: t.str('', url),
      format: t.enum(['json', 'videowhisper'] as const, 'json'),
      intervalSeconds: t.dur(10, 1),
      cacheSeconds: t.dur(60, 0),
      timeoutMs: t.int(2000, 50, 60_000),
      failMode: t.enum(['closed', 'open'] as const, 'closed'),
    }),
  }),
  /** Plans by name; `default` always exists (a file that adds plans keeps it unless it sets `default` itself). */
  plans: t.map(planSpec, { default: {} }, undefined, { default: {} }),
  /** Per-stream rules; the key is a stream name or a prefix ending in `*`. */
  streams: t.map(t.obj({ maxViewers: t.int(0, 0) })),
  servers: t.list(serverSpec, [], (list) => {
    const seen = new Set<string>();
    for (const s of list as Array<{ name: string; api: string }>) {
      if (!s.name) return 'every server needs a name';
      if (s.name === 'builtin' || s.name === 'api') return `"${s.name}" is reserved`;
      if (seen.has(s.name)) return `duplicate server name "${s.name}"`;
      seen.add(s.name);
    }
    return undefined;
  }),
  sync: t.obj({ intervalSeconds: t.dur(60, 1) }),
  webhooks: t.list(t.obj({ url: t.str('', url), secret: t.str(), events: t.list(t.str()) })),
  log: t.obj({ level: t.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const, 'info') }),
});

export type Config = Infer<typeof configSchema>;
export type PlanConfig = Infer<typeof planSpec>;
export type ServerConfig = Infer<typeof serverSpec>;
export type ServerType = (typeof SERVER_TYPES)[number];
