/**
 * Flussonic (closed source; formats from its documentation and older/third-party code, see docs/servers.md).
 * Auth backend: play is a GET with query fields (name, proto, ip, request_type new_session|update_session,
 * session_id, token, qs, user_agent, …), publish a POST with the same fields as JSON. 200 allows (with
 * `X-UserId` and `X-AuthDuration`, the re-check interval), 403 refuses. Events (`event_sink`) arrive as a JSON
 * array or object on `/hooks/flussonic/events`. Kick: legacy `POST /flussonic/api/close_sessions` (ids, one per
 * line). List: legacy `GET /flussonic/api/sessions`.
 */
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, AdmissionRequest, ConnRef } from '../core/types.js';
import { UsherError } from '../errors.js';
import { count, denial, isObject, json, jsonBody, jsonObject, plainIp, secondsLeft, str, text } from './hook-util.js';
import { basicAuth, callServer, parseJsonAnswer, ServerUnreachable } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

/**
 * How often Flussonic re-asks (update_session), at most. Each update tells Usher the viewer is still there and
 * lets it refuse a session that was killed or ran out; a token that expires sooner shortens it.
 */
const MAX_AUTH_DURATION = 60;

export const flussonicAdapter: Adapter = {
  type: 'flussonic',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    if (req.subpath === '/events') return events(req, server, host);
    if (req.subpath !== '') throw new UsherError('E_NOT_FOUND', `no Flussonic hook ${req.subpath}`);
    const publish = req.method === 'POST';
    const f = publish ? jsonObject(req) : Object.fromEntries(req.query);
    const sessionId = str(f.session_id);
    const action: Action = publish ? 'publish' : 'play';
    if (str(f.request_type) === 'update_session' && sessionId) {
      // not known (Usher was down at new_session, or a sync ended it): the host admits or refuses it by the rules
      const live = await host.connectionAlive(server.name, sessionId, undefined, request(server, f, action));
      if (live.live) return allowed(live.admitted?.account ?? undefined, live.admitted?.expiresAt, host.now());
      return text(403, `${live.code ?? 'E_SESSION_ENDED'}: ${live.reason ?? 'session is over'}`);
    }
    const d = await host.admit(request(server, f, action));
    if (!d.allow) return text(403, denial(d));
    return allowed(d.account ?? undefined, d.expiresAt, host.now());
  },

  control(server: ServerConfig): ServerControl {
    return {
      async kick(conn: ConnRef): Promise<void> {
        const res = await callServer(server, {
          method: 'POST',
          path: '/flussonic/api/close_sessions',
          headers: { 'content-type': 'text/plain', ...basicAuth(server) },
          body: `${conn.clientId}\n`,
        });
        // closing an id Flussonic no longer has is not an error there: either way the viewer is gone
        if (res.status < 200 || res.status >= 300) throw new ServerUnreachable(server.name, `close_sessions answered ${res.status}`);
      },
      async list(): Promise<LiveClient[]> {
        const res = await callServer(server, { path: '/flussonic/api/sessions', headers: basicAuth(server) });
        if (res.status !== 200) throw new ServerUnreachable(server.name, `sessions answered ${res.status}`);
        const body = parseJsonAnswer(server, res.text);
        const items = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.sessions) ? body.sessions : undefined;
        if (!items) throw new ServerUnreachable(server.name, 'sessions: no list in the answer');
        const out: LiveClient[] = [];
        for (const s of items) {
          if (!isObject(s)) continue;
          const id = str(s.id) || str(s.session_id);
          if (!id) continue;
          const token = str(s.token);
          out.push({
            clientId: id,
            stream: normalizeStream(str(s.name) || str(s.media) || str(s.stream)),
            action: str(s.type) === 'publish' ? 'publish' : 'play',
            protocol: (str(s.proto) || str(s.protocol) || str(s.type) || 'http').toLowerCase(),
            ip: plainIp(str(s.ip)),
            token: token || undefined,
          });
        }
        return out;
      },
    };
  },
};

/** One auth-backend call as an admission request. */
function request(server: ServerConfig, f: Record<string, unknown>, action: Action): AdmissionRequest {
  // Flussonic invents a token when the client has none (unless no_auto_token), so the client's own query (`qs`)
  // is the better source; the `token` field is used only by versions that send no `qs`.
  const hasQs = 'qs' in f;
  return {
    server: server.name,
    protocol: str(f.proto).toLowerCase() || 'http',
    action,
    stream: normalizeStream(str(f.name)),
    ip: plainIp(str(f.ip)),
    token: hasQs ? undefined : str(f.token) || undefined,
    query: str(f.qs).replace(/^\?/, ''),
    clientId: str(f.session_id) || undefined,
    userAgent: str(f.user_agent) || undefined,
  };
}

function allowed(account: string | undefined, expiresAt: number | null | undefined, now: number): HookResponse {
  const headers: Record<string, string> = {
    'x-authduration': String(Math.min(MAX_AUTH_DURATION, secondsLeft(expiresAt, now) ?? MAX_AUTH_DURATION)),
  };
  // a header value must be plain printable ASCII; an account name may be anything
  if (account) headers['x-userid'] = /^[\x20-\x7e]*$/.test(account) ? account : encodeURIComponent(account);
  return text(200, '', headers);
}

/** play_closed / source_closed end the connection; play_updated refreshes it. Other events are acknowledged. */
async function events(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
  const v = jsonBody(req);
  const list = Array.isArray(v) ? v : [v];
  for (const e of list) {
    if (!isObject(e)) continue;
    const id = str(e.session_id) || str(e.id);
    if (!id) continue;
    switch (str(e.event)) {
      case 'play_closed':
      case 'source_closed':
      case 'publish_closed':
        await host.connectionClosed(server.name, id, { bytesOut: count(e.bytes) });
        break;
      case 'play_updated':
        // an event cannot refuse anything; a killed session is closed by the kick or refused at update_session
        await host.connectionAlive(server.name, id);
        break;
      default:
        break;
    }
  }
  return json(200, {});
}
