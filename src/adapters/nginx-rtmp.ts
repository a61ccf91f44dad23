/**
 * nginx-rtmp-module (arut). Hooks: `on_*` notify calls, form-encoded, dispatched on `call`
 * (ngx_rtmp_notify_module.c). nginx reads only the first digit of our status: 2xx allows, anything else refuses
 * and closes the connection. Kick: the `rtmp_control` HTTP module (`/control/drop/client`). List: `rtmp_stat` XML.
 */
import { isIP } from 'node:net';
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, AdmissionRequest, ConnRef, SessionRecord } from '../core/types.js';
import { UsherError } from '../errors.js';
import { denial, hostOf, text } from './hook-util.js';
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

/**
 * The flashver nginx gives the sessions it creates itself for `push`/`pull` (ngx_rtmp_relay_module.c
 * `ngx_rtmp_relay_create_connection`: `ngx_str_set(&rs->flashver, "ngx-local-relay")`).
 */
const RELAY_FLASHVER = 'ngx-local-relay';

/** Stat documents grow with the number of clients (~300 bytes each); this allows well over 100k. */
const MAX_STAT_BYTES = 64 * 1024 * 1024;

export interface NotifyCall {
  fields: Map<string, string>;
  /**
   * The client's own query, as a raw query string: its stream-level args (the extra fields nginx appends), then
   * what a client put after a `?` in the stream name or the application, then the query of `tcurl`, where
   * connect-level args (`rtmp://host/live?tkn=…` with stream key `demo`, as OBS sends them) are the only trace
   * nginx passes on to publish/play (ngx_rtmp_cmd_module.c cuts `app` at `?`; ngx_rtmp_notify_module.c sends
   * `s->args` only with connect/disconnect). Earlier parts win: the token is looked up in the first `tkn`.
   * `swfurl`/`pageurl` are a web page's addresses, not the stream's: a query there is the page's, not read.
   */
  query: string;
}

/**
 * The notify string of one call. `notify_method post` (the default) sends it as the form body. With `get` nginx
 * writes it after the hook URL and a `?` even when that URL has a query of its own
 * (ngx_rtmp_netcall_http_format_request), so `/hooks/nginx-rtmp?server=edge1` arrives as
 * `?server=edge1?app=live&…`: the hook URL's own parameters come first, and nginx's string starts after the
 * first `?` found inside one of their values.
 */
export function notifyString(req: Pick<HookRequest, 'method' | 'query' | 'body'>): string {
  if (req.method !== 'GET') return req.body.toString('utf8');
  const entries = [...req.query];
  // nginx's string always begins with `app=`: when the hook URL has no query, the whole query is nginx's
  if (entries.length === 0 || entries[0][0] === 'app') return req.query.toString();
  const at = entries.findIndex(([, v]) => v.includes('?'));
  if (at < 0) return '';
  const [, v] = entries[at];
  const out = new URLSearchParams(v.slice(v.indexOf('?') + 1));
  for (const [k, val] of entries.slice(at + 1)) out.append(k, val);
  return out.toString();
}

/** Split a notify string into nginx's fields (first occurrence wins) and the client's own query (see NotifyCall). */
export function parseNotify(raw: string): NotifyCall {
  const fields = new Map<string, string>();
  const parts: string[] = [];
  const client = new URLSearchParams();
  for (const [k, v] of new URLSearchParams(raw)) {
    if (NGINX_FIELDS.has(k)) {
      if (!fields.has(k)) fields.set(k, v);
    } else {
      client.append(k, v);
    }
  }
  parts.push(client.toString());
  // older builds and forks pass `name`/`app` with the client's `?…` still attached
  for (const k of ['name', 'app']) {
    const v = fields.get(k) ?? '';
    const q = v.indexOf('?');
    if (q >= 0) {
      parts.push(v.slice(q + 1));
      fields.set(k, v.slice(0, q));
    }
  }
  const tcurl = fields.get('tcurl') ?? '';
  const q = tcurl.indexOf('?');
  if (q >= 0) parts.push(tcurl.slice(q + 1));
  return { fields, query: parts.filter((p) => p !== '').join('&') };
}

/**
 * nginx's own relay leg: the session nginx creates for `push` (which plays the source stream locally) or `pull`
 * (which publishes what it fetches). Recognised only by what nginx itself sets: a client may send any flashver,
 * but it cannot have an empty application (nginx refuses a connect to an application it does not have), and
 * only nginx's relay sessions never connect at all, so their `app` and `tcurl` are empty.
 */
export function isRelayLeg(fields: Map<string, string>): boolean {
  return fields.get('flashver') === RELAY_FLASHVER && (fields.get('app') ?? '') === '' && (fields.get('tcurl') ?? '') === '';
}

export const nginxRtmpAdapter: Adapter = {
  type: 'nginx-rtmp',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    const n = parseNotify(notifyString(req));
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
        const action = call === 'update_publish' ? 'publish' : 'play';
        let live = isRelayLeg(n.fields) ? await host.connectionAlive(server.name, clientId) : undefined;
        // what an unknown connection would be admitted as; a relay's stream is only looked up when it is unknown
        if (!live || (!live.live && live.code === 'E_NOT_FOUND')) {
          const unknown = await request(host, server, n, action).catch(() => undefined);
          live = await host.connectionAlive(server.name, clientId, undefined, unknown);
        }
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
  const d = await host.admit(await request(host, server, n, action));
  return d.allow ? text(200) : text(403, denial(d));
}

/**
 * One notify call as an admission request. A relay leg becomes an `output` of the stream it carries: nginx names
 * only the stream's last segment (no application), so the stream is the one live stream of that name that has
 * a publisher (push) or a player (pull); none, or several, is refused (E_NOT_FOUND / E_CONFLICT).
 */
async function request(host: AdapterHost, server: ServerConfig, n: NotifyCall, action: Action): Promise<AdmissionRequest> {
  const f = (k: string): string => n.fields.get(k) ?? '';
  if (isRelayLeg(n.fields)) {
    const name = normalizeStream(f('name'));
    const found = await host.relayCandidates(name, action === 'play' ? 'input' : 'viewer');
    if (found.length === 0) throw new UsherError('E_NOT_FOUND', `relay of "${name}": no live stream of that name to relay`, 'name');
    if (found.length > 1) throw new UsherError('E_CONFLICT', `relay of "${name}": several live streams have that name (${found.join(', ')})`, 'name');
    return {
      server: server.name,
      protocol: 'rtmp',
      action,
      stream: found[0],
      // addr is the relay's URL without the scheme (`host:port/app`): its host is the far end of the relay
      ip: hostOf(f('addr').split('/')[0]),
      clientId: f('clientid') || undefined,
      userAgent: RELAY_FLASHVER,
      kind: 'output',
      relay: true,
    };
  }
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
            if (!id) continue;
            const address = childText(c, 'address');
            // a relay session's address is its URL (`host:port/app`); a client's is always its socket's IP
            const relay = childText(c, 'flashver') === RELAY_FLASHVER && isIP(address) === 0;
            out.push({
              clientId: id,
              stream: normalizeStream(`${appName}/${streamName}`),
              action: c.children.some((x) => x.name === 'publishing') ? 'publish' : 'play',
              protocol: 'rtmp',
              ip: relay ? hostOf(address.split('/')[0]) : address,
              // the client's query args (and so its token) are not in the stat document
              ...(relay ? { relay: true } : {}),
            });
          }
        }
      }
    }
  }
  return out;
}
