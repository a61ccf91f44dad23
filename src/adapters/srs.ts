/**
 * SRS `http_hooks` (srs_app_http_hooks.cpp). SRS allows only when the answer is HTTP 200/201 with a body that is
 * the literal `0` or a JSON object whose integer `code` is 0 (`do_post`); anything else refuses. Usher answers
 * `0` to allow and HTTP 200 with `{"code":403|401,"msg":"E_…: reason"}` to refuse, so SRS logs the reason
 * ("response object code 403 …"). Kick: `DELETE /api/v1/clients/{id}`. List: `GET /api/v1/clients/?start=&count=`.
 */
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, ConnRef } from '../core/types.js';
import { UsherError } from '../errors.js';
import { count, denial, isObject, json, jsonObject, plainIp, str } from './hook-util.js';
import { basicAuth, callServer, parseJsonAnswer, ServerUnreachable } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

/** ERROR_RTMP_CLIENT_NOT_FOUND (srs_kernel_error.hpp). */
const CLIENT_NOT_FOUND = 2049;
/** SRS answers this code when the client is a ghost with no connection to expire (ossrs/srs#3231). */
const NO_CONNECTION = 400;

/** SRS clamps `count` to at least 10 and defaults to 10 (ossrs/srs#4198), so the page size is always explicit. */
const PAGE_SIZE = 500;
const MAX_PAGES = 1000;

const allow = (): HookResponse => ({ status: 200, body: '0', headers: { 'content-type': 'application/json' } });

export const srsAdapter: Adapter = {
  type: 'srs',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    const b = jsonObject(req);
    const action = str(b.action);
    const clientId = str(b.client_id);
    switch (action) {
      case 'on_connect':
        // no stream decision yet: admission happens at on_publish/on_play
        return allow();
      case 'on_publish':
      case 'on_play':
        return admit(host, server, b, action === 'on_publish' ? 'publish' : 'play');
      case 'on_unpublish':
      case 'on_stop':
        if (clientId) await host.connectionClosed(server.name, clientId);
        return allow();
      case 'on_close':
        // recv_bytes is what SRS received from the client, send_bytes what it sent to it
        if (clientId) await host.connectionClosed(server.name, clientId, { bytesIn: count(b.recv_bytes), bytesOut: count(b.send_bytes) });
        return allow();
      case 'on_dvr':
      case 'on_hls':
        return allow();
      default:
        throw new UsherError('E_VALIDATION', `unknown SRS hook action "${action}"`, 'action');
    }
  },

  control(server: ServerConfig): ServerControl {
    return {
      async kick(conn: ConnRef): Promise<void> {
        const res = await callServer(server, {
          method: 'DELETE',
          path: `/api/v1/clients/${encodeURIComponent(conn.clientId)}`,
          headers: basicAuth(server),
        });
        if (res.status !== 200) throw new ServerUnreachable(server.name, `kick answered ${res.status}`);
        const body = parseJsonAnswer(server, res.text);
        const code = isObject(body) ? body.code : undefined;
        if (code === 0 || code === CLIENT_NOT_FOUND || code === NO_CONNECTION) return;
        throw new ServerUnreachable(server.name, `kick answered code ${String(code)}`);
      },
      async list(): Promise<LiveClient[]> {
        const out: LiveClient[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
          const res = await callServer(server, { path: `/api/v1/clients/?start=${page * PAGE_SIZE}&count=${PAGE_SIZE}`, headers: basicAuth(server) });
          if (res.status !== 200) throw new ServerUnreachable(server.name, `clients answered ${res.status}`);
          const body = parseJsonAnswer(server, res.text);
          if (!isObject(body) || body.code !== 0 || !Array.isArray(body.clients)) {
            throw new ServerUnreachable(server.name, `clients answered ${res.text.slice(0, 200)}`);
          }
          for (const c of body.clients) if (isObject(c) && str(c.id)) out.push(listed(c));
          if (body.clients.length < PAGE_SIZE) break;
        }
        return out;
      },
    };
  },
};

async function admit(host: AdapterHost, server: ServerConfig, b: Record<string, unknown>, action: Action): Promise<HookResponse> {
  const d = await host.admit({
    server: server.name,
    protocol: protocolOfUrl(str(b.tcUrl)),
    action,
    stream: normalizeStream(`${beforeQuery(str(b.app))}/${beforeQuery(str(b.stream))}`),
    ip: plainIp(str(b.ip)),
    query: clientQuery(b),
    clientId: str(b.client_id) || undefined,
  });
  if (d.allow) return allow();
  return json(200, { code: d.askCredentials ? 401 : 403, msg: denial(d) });
}

/**
 * The client's query wherever SRS may carry it, earlier parts winning: `param` (v4+, with its leading `?`:
 * "?token=xxx&salt=yyy"; the stream's query, else the one given on the application), then a `?…` still attached
 * to `stream` or `app` (SRS 2/3 passed them on as the client wrote them), then the query of `tcUrl`, where
 * connect-level args (`rtmp://host/live?token=…` + stream key) stay.
 */
export function clientQuery(b: Record<string, unknown>): string {
  const after = (v: string): string => (v.includes('?') ? v.slice(v.indexOf('?') + 1) : '');
  const parts = [str(b.param).replace(/^\?/, ''), after(str(b.stream)), after(str(b.app)), after(str(b.tcUrl))];
  return parts.filter((p) => p !== '').join('&');
}

function beforeQuery(s: string): string {
  const q = s.indexOf('?');
  return q >= 0 ? s.slice(0, q) : s;
}

/** The tcUrl scheme says how the client came in: rtmp(s)://, webrtc://, srt://, http(s):// (FLV, HLS). */
export function protocolOfUrl(tcUrl: string): string {
  const m = /^([a-z0-9+.-]+):\/\//i.exec(tcUrl);
  const scheme = m ? m[1].toLowerCase() : '';
  if (scheme === 'rtmps') return 'rtmp';
  if (scheme === 'https') return 'http';
  return scheme || 'rtmp';
}

/** The client `type` (srs_client_type_string) → protocol, matching what the hooks' tcUrl gives. */
function protocolOfType(type: string): string {
  if (type.startsWith('rtc-')) return 'webrtc';
  if (type.startsWith('srt-')) return 'srt';
  if (type === 'hls-play' || type === 'flv-play') return 'http';
  return 'rtmp';
}

function listed(c: Record<string, unknown>): LiveClient {
  // url is "[vhost]/app/stream" (srs_generate_stream_url): the vhost prefix appears only for non-default vhosts
  let url = str(c.url);
  const vhost = str(c.vhost);
  if (vhost && url.startsWith(`${vhost}/`)) url = url.slice(vhost.length);
  const type = str(c.type);
  return {
    clientId: str(c.id),
    stream: normalizeStream(url || str(c.name)),
    action: c.publish === true ? 'publish' : 'play',
    protocol: protocolOfType(type),
    ip: plainIp(str(c.ip)),
    // the client list has no param (query), so no token: an unknown client is admitted only if the rules allow anonymous
  };
}
