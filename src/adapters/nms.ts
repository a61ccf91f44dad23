/**
 * Node-Media-Server v4 `notify` (src/server/notify_server.js): a JSON POST sent with fetch and *no* Content-Type,
 * fire and forget — but any status other than exactly 200 makes NMS call `session.close()`. So a refusal arrives
 * just after the session started, which is the best NMS offers (it has no reject in v4, issue #667).
 * `prePublish` is sent with action "postPublish" (an NMS bug), so a publish is announced twice; the second
 * admission joins the first session. Kick: `DELETE /api/v1/sessions/:id`. List: `GET /api/v1/sessions`.
 * The API sits behind a JWT: `server.token` is used as is, else a challenge login with user/password.
 */
import { createHmac } from 'node:crypto';
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { Action, ConnRef } from '../core/types.js';
import { count, denial, dropPort, isObject, jsonObject, rawQuery, str, text } from './hook-util.js';
import { callServer, parseJsonAnswer, ServerUnreachable, type OutboundRequest, type OutboundResponse } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

const ADMIT: Record<string, Action> = { prePlay: 'play', postPlay: 'play', postPublish: 'publish', prePublish: 'publish' };
const CLOSE = new Set(['donePlay', 'donePublish']);

export const nmsAdapter: Adapter = {
  type: 'nms',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    const b = jsonObject(req);
    const action = str(b.action);
    const id = str(b.id);
    const admitAs = ADMIT[action];
    if (admitAs) {
      const d = await host.admit({
        server: server.name,
        protocol: str(b.protocol).toLowerCase() || 'rtmp',
        action: admitAs,
        stream: normalizeStream(`${str(b.app)}/${str(b.name)}`),
        // NMS reports "address:port" (socket.remoteAddress + ":" + remotePort)
        ip: dropPort(str(b.ip)),
        // an object from querystring.parse / express, or a string in other versions
        query: rawQuery(b.query),
        clientId: id || undefined,
      });
      return d.allow ? text(200) : text(403, denial(d));
    }
    if (CLOSE.has(action)) {
      if (id) await host.connectionClosed(server.name, id, { bytesIn: count(b.inbytes), bytesOut: count(b.outbytes) });
      return text(200);
    }
    // postRecord/doneRecord and anything newer: not a client session; 200 so NMS leaves the session alone
    return text(200);
  },

  control(server: ServerConfig): ServerControl {
    const api = new NmsApi(server);
    return {
      async kick(conn: ConnRef): Promise<void> {
        const res = await api.call({ method: 'DELETE', path: `/api/v1/sessions/${encodeURIComponent(conn.clientId)}` });
        if (res.status === 200 || res.status === 404) return; // 404: NMS no longer has it
        throw new ServerUnreachable(server.name, `kick answered ${res.status}`);
      },
      async list(): Promise<LiveClient[]> {
        const res = await api.call({ path: '/api/v1/sessions' });
        if (res.status !== 200) throw new ServerUnreachable(server.name, `sessions answered ${res.status}`);
        const body = parseJsonAnswer(server, res.text);
        const data = isObject(body) && isObject(body.data) ? body.data : undefined;
        if (!data || !Array.isArray(data.sessions)) throw new ServerUnreachable(server.name, 'sessions: no data.sessions');
        const out: LiveClient[] = [];
        for (const s of data.sessions) {
          if (!isObject(s) || !str(s.id)) continue;
          // v4.2 lists `app`/`name` (undefined on some builds, where only streamApp/streamName are set)
          const app = str(s.app) || str(s.streamApp);
          const name = str(s.name) || str(s.streamName);
          out.push({
            clientId: str(s.id),
            stream: app || name ? normalizeStream(`${app}/${name}`) : normalizeStream(str(s.streamPath)),
            action: s.isPublisher === true ? 'publish' : 'play',
            protocol: str(s.protocol).toLowerCase() || 'rtmp',
            ip: dropPort(str(s.ip)),
          });
        }
        return out;
      },
    };
  },
};

/** NMS API calls with its bearer JWT: configured, or obtained by login and renewed once when refused. */
class NmsApi {
  private jwt: string;

  constructor(private readonly server: ServerConfig) {
    this.jwt = server.token;
  }

  async call(req: OutboundRequest): Promise<OutboundResponse> {
    if (!this.jwt && this.server.user) await this.login();
    let res = await callServer(this.server, { ...req, headers: this.headers() });
    if (res.status === 401 && this.server.user) {
      await this.login();
      res = await callServer(this.server, { ...req, headers: this.headers() });
    }
    return res;
  }

  private headers(): Record<string, string> {
    return this.jwt ? { authorization: `Bearer ${this.jwt}` } : {};
  }

  /** Step 1 {username} → challenge; step 2 {username, challenge, response: hex HMAC-SHA256(password, challenge)} → token. */
  private async login(): Promise<void> {
    const post = async (body: Record<string, string>): Promise<Record<string, unknown>> => {
      const res = await callServer(this.server, {
        method: 'POST',
        path: '/api/v1/login',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const v = res.status === 200 ? parseJsonAnswer(this.server, res.text) : undefined;
      if (!isObject(v) || !isObject(v.data)) throw new ServerUnreachable(this.server.name, `login answered ${res.status}`);
      return v.data;
    };
    const username = this.server.user;
    const challenge = str((await post({ username })).challenge);
    if (!challenge) throw new ServerUnreachable(this.server.name, 'login gave no challenge');
    const response = createHmac('sha256', this.server.password).update(challenge).digest('hex');
    const token = str((await post({ username, challenge, response })).token);
    if (!token) throw new ServerUnreachable(this.server.name, 'login gave no token');
    this.jwt = token;
  }
}
