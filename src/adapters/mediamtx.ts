/**
 * MediaMTX with `authMethod: http` (internal/auth/manager.go `authenticateHTTP`): one JSON POST per access
 * request; any 2xx allows, anything else refuses. MediaMTX sends no close or update call, so sessions end by
 * sync (the Control API lists) or, optionally, by a `runOnUnread`/`runOnDisconnect` hook calling
 * `/hooks/mediamtx/closed?id=…`. Kick: `POST /v3/<kind>/kick/{id}`.
 */
import type { ServerConfig } from '../config/schema.js';
import { constantTimeEqual } from '../auth/credentials.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, ConnRef } from '../core/types.js';
import { UsherError } from '../errors.js';
import { denial, hostOf, isObject, jsonObject, plainIp, str, text } from './hook-util.js';
import { basicAuth, callServer, parseJsonAnswer, ServerUnreachable } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

/**
 * The auth request says `rtsp` for RTSP and RTSPS alike (and `rtmp` for RTMP/RTMPS), so a kick tries each
 * list the id could be in; a 404 from one means "not here".
 */
const KINDS_BY_PROTOCOL: Record<string, string[]> = {
  rtsp: ['rtspsessions', 'rtspssessions'],
  rtmp: ['rtmpconns', 'rtmpsconns'],
  srt: ['srtconns'],
  webrtc: ['webrtcsessions'],
  hls: ['hlssessions'],
  moq: ['moqsessions'],
};

/** The lists sync reads, with the protocol each one's clients are admitted under. */
const LIST_KINDS: Array<[kind: string, protocol: string]> = [
  ['rtspsessions', 'rtsp'], ['rtspssessions', 'rtsp'], ['rtmpconns', 'rtmp'], ['rtmpsconns', 'rtmp'],
  ['srtconns', 'srt'], ['webrtcsessions', 'webrtc'], ['hlssessions', 'hls'], ['moqsessions', 'moq'],
];

const PAGE_SIZE = 1000;
const MAX_PAGES = 1000;

export const mediamtxAdapter: Adapter = {
  type: 'mediamtx',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    if (req.subpath === '/closed') {
      const id = req.query.get('id') ?? '';
      if (!id) throw new UsherError('E_VALIDATION', 'id is required', 'id');
      await host.connectionClosed(server.name, id);
      return text(200);
    }
    if (req.subpath !== '') throw new UsherError('E_NOT_FOUND', `no MediaMTX hook ${req.subpath}`);
    const b = jsonObject(req);
    const action = str(b.action);
    const user = str(b.user);
    const password = str(b.password);
    const token = str(b.token);
    if (action === 'api' || action === 'metrics' || action === 'pprof') return controlAccess(server, user, password);
    const mapped: Action | undefined = action === 'publish' ? 'publish' : action === 'read' || action === 'playback' ? 'play' : undefined;
    if (!mapped) throw new UsherError('E_VALIDATION', `unknown MediaMTX action "${action}"`, 'action');
    const protocol = str(b.protocol).toLowerCase() || 'rtsp';
    const query = str(b.query).replace(/^\?/, '');
    const d = await host.admit({
      server: server.name,
      protocol,
      action: mapped,
      stream: normalizeStream(str(b.path)),
      ip: plainIp(str(b.ip)),
      token: token || undefined,
      user: user || undefined,
      password: password || undefined,
      query,
      // null for playback (and api/metrics/pprof): such a request has nothing to kick or close
      clientId: str(b.id) || undefined,
      userAgent: str(b.userAgent) || undefined,
    });
    if (d.allow) return text(200);
    // 401 makes MediaMTX ask the client for credentials (RTSP clients send them only after one: docs
    // 06-authentication.md); whether to ask is the pipeline's decision (Decision.askCredentials), not the adapter's.
    return text(d.askCredentials ? 401 : 403, denial(d));
  },

  control(server: ServerConfig): ServerControl {
    return {
      async kick(conn: ConnRef): Promise<void> {
        const kinds = KINDS_BY_PROTOCOL[conn.protocol] ?? LIST_KINDS.map(([k]) => k);
        for (const kind of kinds) {
          const res = await callServer(server, {
            method: 'POST',
            path: `/v3/${kind}/kick/${encodeURIComponent(conn.clientId)}`,
            headers: basicAuth(server),
          });
          if (res.status >= 200 && res.status < 300) return;
          if (res.status === 404) continue;
          throw new ServerUnreachable(server.name, `kick answered ${res.status}: ${res.text.slice(0, 200)}`);
        }
        // 404 everywhere: MediaMTX no longer has it (an RTSP DESCRIBE connection id also ends up here)
      },
      async list(): Promise<LiveClient[]> {
        const out: LiveClient[] = [];
        for (const [kind, protocol] of LIST_KINDS) out.push(...(await listKind(server, kind, protocol)));
        return out;
      },
    };
  },
};

/**
 * api/metrics/pprof requests are not media sessions. When `user` is configured for this server (the credentials
 * Usher itself uses against the Control API), only those credentials get in; otherwise they are allowed.
 */
function controlAccess(server: ServerConfig, user: string, password: string): HookResponse {
  if (!server.user) return text(200);
  const ok = constantTimeEqual(user, server.user) && constantTimeEqual(password, server.password);
  return ok ? text(200) : text(401, 'E_CREDENTIALS_REQUIRED: the MediaMTX API needs the credentials configured in usher');
}

async function listKind(server: ServerConfig, kind: string, protocol: string): Promise<LiveClient[]> {
  const out: LiveClient[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const res = await callServer(server, { path: `/v3/${kind}/list?itemsPerPage=${PAGE_SIZE}&page=${page}`, headers: basicAuth(server) });
    // a kind whose server is disabled (or that this MediaMTX version lacks) answers 4xx: nothing to list there
    if (res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403) return out;
    if (res.status !== 200) throw new ServerUnreachable(server.name, `${kind}/list answered ${res.status}`);
    const body = parseJsonAnswer(server, res.text);
    if (!isObject(body) || !Array.isArray(body.items)) throw new ServerUnreachable(server.name, `${kind}/list: no items`);
    for (const it of body.items) {
      if (!isObject(it)) continue;
      const state = str(it.state) || 'read'; // hlssessions have no state: they only read
      if (state === 'idle') continue;
      const id = str(it.id);
      if (!id) continue;
      out.push({
        clientId: id,
        stream: normalizeStream(str(it.path)),
        action: state === 'publish' ? 'publish' : 'play',
        protocol,
        ip: hostOf(str(it.remoteAddr)),
        query: str(it.query).replace(/^\?/, '') || undefined,
      });
    }
    const pageCount = typeof body.pageCount === 'number' ? body.pageCount : 1;
    if (page + 1 >= pageCount) break;
  }
  return out;
}
