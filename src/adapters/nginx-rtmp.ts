/**
 * nginx-rtmp-module (arut). Hooks: `on_*` notify calls, form-encoded, dispatched on `call`
 * (ngx_rtmp_notify_module.c). nginx reads only the first digit of our status: 2xx allows, anything else refuses
 * and closes the connection. Kick: the `rtmp_control` HTTP module (`/control/drop/client`). List: `rtmp_stat` XML.
 */
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, AdmissionRequest, ConnRef, SessionRecord } from '../core/types.js';
import { UsherError } from '../errors.js';
import { denial, text } from './hook-util.js';
import { callServer, ServerUnreachable } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';
import { childText, childrenNamed, parseXml, XmlError } from './xml.js';

/**
 * The fields nginx itself writes, always before the client's own query args. A client can append duplicates of
 * these (`?clientid=1&name=x`), so only their first occurrence is nginx's; later ones are dropped, not trusted.
 */
const NGINX_FIELDS = new Set([
  'app', 'flashver', 'swfurl', 'tcurl', 'pageurl', 'addr', 'clientid', 'call', 'name', 'type',
  'start', 'duration', 'reset', 'time', 'timestamp', 'epoch', 'recorder', 'path',
]);

/** nginx's own outgoing relays (push/pull) carry this flashver; they never pass through notify, so sync skips them. */
const RELAY_FLASHVER = 'ngx-local-relay';

/** Stat documents grow with the number of clients (~300 bytes each); this allows well over 100k. */
const MAX_STAT_BYTES = 64 * 1024 * 1024;

export interface NotifyCall {
  fields: Map<string, string>;
  /** The client's own query args (everything that is not an nginx field), as a raw query string. */
  query: string;
}

/** Split a notify body into nginx's fields (first occurrence wins) and the client's own args. */
export function parseNotify(raw: string): NotifyCall {
  const fields = new Map<string, string>();
  const client = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(raw)) {
    if (NGINX_FIELDS.has(k)) {
      if (!fields.has(k)) fields.set(k, v);
    } else {
      client.append(k, v);
    }
  }
  return { fields, query: client.toString() };
}

export const nginxRtmpAdapter: Adapter = {
  type: 'nginx-rtmp',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    // notify_method post (the default) sends a form body; with `get` the same string is the query
    const n = parseNotify(req.method === 'GET' ? req.query.toString() : req.body.toString('utf8'));
    const f = (k: string): string => n.fields.get(k) ?? '';
    const call = f('call');
    const clientId = f('clientid');
    switch (call) {
      case 'connect':
        // No stream name and no clientid yet: admission happens at publish/play.
        return text(200);
      case 'publish':
      case 'play':
        return admit(host, server, n, call);
      case 'update_publish':
      case 'update_play': {
        if (!clientId) return text(400, 'clientid is missing');
        const live = await host.connectionAlive(server.name, clientId, undefined, request(server, n, call === 'update_publish' ? 'publish' : 'play'));
        if (live.live) return text(200);
        return text(403, `${live.code ?? 'E_SESSION_ENDED'}: ${live.reason ?? 'session is over'}`);
      }
      case 'publish_done':
      case 'play_done':
      case 'done':
      case 'disconnect':
        // `done` follows publish_done/play_done for the same connection; closing twice is harmless.
        if (clientId) await host.connectionClosed(server.name, clientId);
        return text(200);
      case 'record_done':
        return text(200);
      default:
        // Unknown calls are refused: nginx then closes the client, which is the safe side for an access hook.
        throw new UsherError('E_VALIDATION', `unknown nginx-rtmp call "${call}"`, 'call');
    }
  },

  control(server: ServerConfig): ServerControl {
    return {
      async kick(conn: ConnRef, session: SessionRecord): Promise<void> {
        const res = await callServer(server, { path: `${server.controlPath}/drop/client?${dropQuery(conn, session)}` });
        if (res.status !== 200) throw new ServerUnreachable(server.name, `drop answered ${res.status}: ${res.text.slice(0, 200)}`);
        // The body is the number of connections dropped; 0 means nginx no longer has it, which is what we wanted.
        if (!/^\d+$/.test(res.text.trim())) throw new ServerUnreachable(server.name, `drop answered "${res.text.slice(0, 100)}"`);
      },
      async list(): Promise<LiveClient[]> {
        const res = await callServer(server, { path: server.statPath, maxBytes: MAX_STAT_BYTES });
        if (res.status !== 200) throw new ServerUnreachable(server.name, `stat answered ${res.status}`);
        try {
          return parseStat(res.text);
        } catch (e) {
          if (e instanceof XmlError) throw new ServerUnreachable(server.name, `stat is not valid XML (${e.message})`);
          throw e;
        }
      },
    };
  },
};

async function admit(host: AdapterHost, server: ServerConfig, n: NotifyCall, action: Action): Promise<HookResponse> {
  const d = await host.admit(request(server, n, action));
  return d.allow ? text(200) : text(403, denial(d));
}

/** One notify call as an admission request. */
function request(server: ServerConfig, n: NotifyCall, action: Action): AdmissionRequest {
  const f = (k: string): string => n.fields.get(k) ?? '';
  return {
    server: server.name,
    protocol: 'rtmp',
    action,
    stream: normalizeStream(`${f('app')}/${f('name')}`),
    ip: f('addr'),
    query: n.query,
    clientId: f('clientid') || undefined,
    userAgent: f('flashver') || undefined,
  };
}

/**
 * The control module compares `app` and `name` with the raw (still URL-encoded) argument, so they are only sent
 * when they need no encoding; `clientid` alone identifies the connection (nginx's connection number).
 */
function dropQuery(conn: ConnRef, session: SessionRecord): string {
  const parts: string[] = [];
  const slash = session.stream.indexOf('/');
  const app = slash > 0 ? session.stream.slice(0, slash) : '';
  const name = slash > 0 ? session.stream.slice(slash + 1) : '';
  const safe = /^[A-Za-z0-9._~-]+$/;
  if (safe.test(app) && safe.test(name)) parts.push(`app=${app}`, `name=${name}`);
  parts.push(`clientid=${encodeURIComponent(conn.clientId)}`);
  return parts.join('&');
}

/** rtmp > server > application > live > stream > client (ngx_rtmp_stat_module.c). */
export function parseStat(xml: string): LiveClient[] {
  const root = parseXml(xml);
  if (root.name !== 'rtmp') throw new XmlError(`root is <${root.name}>, expected <rtmp>`, 0);
  const out: LiveClient[] = [];
  for (const srv of childrenNamed(root, 'server')) {
    for (const app of childrenNamed(srv, 'application')) {
      const appName = childText(app, 'name');
      for (const live of childrenNamed(app, 'live')) {
        for (const stream of childrenNamed(live, 'stream')) {
          const streamName = childText(stream, 'name');
          for (const c of childrenNamed(stream, 'client')) {
            const id = childText(c, 'id');
            if (!id || childText(c, 'flashver') === RELAY_FLASHVER) continue;
            out.push({
              clientId: id,
              stream: normalizeStream(`${appName}/${streamName}`),
              action: c.children.some((x) => x.name === 'publishing') ? 'publish' : 'play',
              protocol: 'rtmp',
              ip: childText(c, 'address'),
              // the client's query args (and so its token) are not in the stat document
            });
          }
        }
      }
    }
  }
  return out;
}
