/**
 * Node-Media-Server v4 (checked against 4.4.3, the current release, and 4.3.2). Notify (src/server/notify_server.js):
 * a JSON POST sent with fetch and a string body (so `Content-Type: text/plain;charset=UTF-8`), fire and forget —
 * but any status other than exactly 200 makes NMS call `session.close()`. So a refusal arrives just after the
 * session started, which is the best NMS offers (it has no reject in v4, issue #667). Both `prePublish` and
 * `postPublish` are sent for a publish (and `prePlay`/`postPlay` for a play); the second admission joins the first
 * session. `donePublish` comes only after NMS's 30 s publish grace (`PUBLISH_GRACE_MS`, broadcast_server.js).
 *
 * API (src/routers/api.js), behind a JWT: `server.token` as is, else `POST /api/v1/login {username, password}` →
 * `data.token`, a JWT that expires (`auth.jwt.expiresIn`, 24 h by default; src/api/handlers/auth.js), renewed
 * before it does and when refused. Kick: `DELETE /api/v1/sessions/:id`. List: `GET /api/v1/sessions`, whose
 * entries carry no stream name (its handler reads `session.app/name`, which sessions do not have), plus
 * `GET /api/v1/streams` for each publisher's stream. NMS's own relay pulls (`/api/v1/relay` tasks, with their
 * session `id`) are outputs.
 */
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, AdmissionRequest, ConnRef } from '../core/types.js';
import { count, denial, dropPort, isObject, jsonObject, rawQuery, str, text } from './hook-util.js';
import { callServer, parseJsonAnswer, ServerUnreachable, type OutboundRequest, type OutboundResponse } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

const ADMIT: Record<string, Action> = { prePlay: 'play', postPlay: 'play', prePublish: 'publish', postPublish: 'publish' };
const CLOSE = new Set(['donePlay', 'donePublish']);

/** A JWT is renewed this long before its `exp`, so a call never goes out with one about to lapse. */
const RENEW_BEFORE_MS = 5 * 60 * 1000;
/**
 * After a refused login Usher waits this long before the next one: NMS locks a user+address out for 15 min after
 * 5 failures and allows 10 logins a minute per address (src/api/middleware/login_rate_limit.js).
 */
const LOGIN_BACKOFF_MS = 30 * 1000;

export const nmsAdapter: Adapter = {
  type: 'nms',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    const b = jsonObject(req);
    const action = str(b.action);
    const id = str(b.id);
    const admitAs = ADMIT[action];
    if (admitAs) {
      const ask: AdmissionRequest = {
        server: server.name,
        protocol: str(b.protocol).toLowerCase() || 'rtmp',
        action: admitAs,
        stream: normalizeStream(`${str(b.app)}/${str(b.name)}`),
        // NMS reports "address:port" (socket.remoteAddress + ":" + remotePort; a relay: its URL's host:port)
        ip: dropPort(str(b.ip)),
        // an object from querystring.parse (RTMP) or express (HTTP-FLV), a string in older builds
        query: rawQuery(b.query),
        clientId: id || undefined,
      };
      // a relay task's session carries no query; only then is NMS's API asked whether it is one
      if (admitAs === 'publish' && id && !ask.query && (await host.isRelay(server.name, id))) {
        Object.assign(ask, { kind: 'output', relay: true, query: undefined });
      }
      const d = await host.admit(ask);
      return d.allow ? text(200) : text(403, denial(d));
    }
    if (CLOSE.has(action)) {
      if (id) await host.connectionClosed(server.name, id, { bytesIn: count(b.inbytes), bytesOut: count(b.outbytes) });
      return text(200);
    }
    // postRecord/doneRecord and anything newer: not a client session; 200 so NMS leaves the session alone
    return text(200);
  },

  control(server: ServerConfig, now: () => number): ServerControl {
    const api = new NmsApi(server, now);
    return {
      isRelay: (clientId) => api.isRelay(clientId),
      async kick(conn: ConnRef): Promise<void> {
        const res = await api.call({ method: 'DELETE', path: `/api/v1/sessions/${encodeURIComponent(conn.clientId)}` });
        if (res.status === 200 || res.status === 404) return; // 404: NMS no longer has it
        throw new ServerUnreachable(server.name, `kick answered ${res.status}`);
      },
      list: () => api.list(),
    };
  },
};

/** NMS API calls with its bearer JWT: configured, or obtained by login, renewed before `exp` and when refused. */
class NmsApi {
  private jwt: string;
  /** Epoch ms after which the JWT is renewed first (its `exp` less a margin); Infinity when it has no `exp`. */
  private renewAt: number;
  private login$: Promise<void> | undefined;
  private loginRefusedUntil = 0;

  constructor(private readonly server: ServerConfig, private readonly now: () => number) {
    this.jwt = server.token;
    this.renewAt = server.token ? renewTime(server.token) : 0;
  }

  async call(req: OutboundRequest): Promise<OutboundResponse> {
    if (this.server.user && (!this.jwt || this.now() >= this.renewAt)) await this.login();
    let res = await callServer(this.server, { ...req, headers: this.headers() });
    if (res.status === 401 && this.server.user) {
      this.renewAt = 0;
      await this.login();
      res = await callServer(this.server, { ...req, headers: this.headers() });
    }
    return res;
  }

  /** Whether `id` is the session of one of NMS's own relay tasks (`GET /api/v1/relay`); false when it cannot say. */
  async isRelay(id: string): Promise<boolean> {
    try {
      return (await this.relayIds()).has(id);
    } catch {
      return false;
    }
  }

  async list(): Promise<LiveClient[]> {
    const sessions = await this.getData('/api/v1/sessions', 'sessions');
    // publishers' streams: only a stream being published now (not one in its reconnect grace) has a live publisher
    const published = new Map<string, string>();
    for (const st of await this.getData('/api/v1/streams', 'streams')) {
      if (!isObject(st) || !isObject(st.publisher) || (st.status !== undefined && st.status !== 'publishing')) continue;
      published.set(str(st.publisher.id), normalizeStream(str(st.key) || `${str(st.app)}/${str(st.name)}`));
    }
    const relays = await this.relayIds().catch(() => new Set<string>());
    const out: LiveClient[] = [];
    for (const s of sessions) {
      if (!isObject(s) || !str(s.id)) continue;
      const id = str(s.id);
      // NMS's internal sessions (recorder, relay push) have no address and never pass through notify
      if (!str(s.ip)) continue;
      const publisher = s.isPublisher === true;
      // 4.3/4.4 sessions carry no stream name; a player's stream then stays unknown ('' is refused, so kicked)
      const named = str(s.app) || str(s.name) ? normalizeStream(`${str(s.app)}/${str(s.name)}`) : '';
      out.push({
        clientId: id,
        stream: publisher ? (published.get(id) ?? named) : named,
        action: publisher ? 'publish' : 'play',
        protocol: str(s.protocol).toLowerCase() || 'rtmp',
        ip: dropPort(str(s.ip)),
        ...(publisher && relays.has(id) ? { relay: true } : {}),
      });
    }
    return out;
  }

  private async relayIds(): Promise<Set<string>> {
    const ids = new Set<string>();
    for (const t of await this.getData('/api/v1/relay', 'tasks', true)) if (isObject(t) && str(t.id)) ids.add(str(t.id));
    return ids;
  }

  /** `data[key]` (or `data` itself when it is the array) of a successful answer. */
  private async getData(path: string, key: string, bare = false): Promise<unknown[]> {
    const res = await this.call({ path });
    if (res.status !== 200) throw new ServerUnreachable(this.server.name, `${path} answered ${res.status}`);
    const body = parseJsonAnswer(this.server, res.text);
    const data = isObject(body) ? body.data : undefined;
    const list = Array.isArray(data) ? data : isObject(data) ? data[key] : bare && isObject(body) ? body[key] : undefined;
    if (!Array.isArray(list)) throw new ServerUnreachable(this.server.name, `${path}: no data.${key} in the answer`);
    return list;
  }

  private headers(): Record<string, string> {
    return this.jwt ? { authorization: `Bearer ${this.jwt}` } : {};
  }

  /** One login at a time; concurrent callers share it. */
  private login(): Promise<void> {
    this.login$ ??= this.doLogin().finally(() => {
      this.login$ = undefined;
    });
    return this.login$;
  }

  /** `POST /api/v1/login {username, password}` → `{success, data: {token, expiresIn}}` (4.3, 4.4). */
  private async doLogin(): Promise<void> {
    const now = this.now();
    if (now < this.loginRefusedUntil) {
      throw new ServerUnreachable(this.server.name, `login refused; next try in ${Math.ceil((this.loginRefusedUntil - now) / 1000)} s`);
    }
    const res = await callServer(this.server, {
      method: 'POST',
      path: '/api/v1/login',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: this.server.user, password: this.server.password }),
    });
    const v = res.status === 200 ? parseJsonAnswer(this.server, res.text) : undefined;
    const token = isObject(v) && isObject(v.data) ? str(v.data.token) : '';
    if (!token) {
      this.loginRefusedUntil = this.now() + LOGIN_BACKOFF_MS;
      // the answer's message says why (wrong password, locked out); it never echoes the password
      throw new ServerUnreachable(this.server.name, `login answered ${res.status}: ${res.text.slice(0, 200)}`);
    }
    this.jwt = token;
    this.renewAt = renewTime(token);
  }
}

/** When to renew a JWT: `exp` (seconds) less the margin, or at once past half its life for short-lived ones. */
function renewTime(jwt: string): number {
  try {
    const payload = JSON.parse(Buffer.from(jwt.split('.')[1] ?? '', 'base64url').toString('utf8')) as unknown;
    if (!isObject(payload) || typeof payload.exp !== 'number') return Infinity;
    const exp = payload.exp * 1000;
    const iat = typeof payload.iat === 'number' ? payload.iat * 1000 : exp;
    return exp - Math.min(RENEW_BEFORE_MS, (exp - iat) / 2);
  } catch {
    return Infinity;
  }
}
