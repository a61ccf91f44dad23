/**
 * MistServer triggers (lib/triggers.cpp, src/session.cpp): a POST with `X-Trigger: <NAME>` and a text/plain body
 * of one value per line. The answer is read as a boolean (`1`, `yes`, `true`, `cont…` are true). USER_NEW fires
 * once per Mist *viewer session* and a false answer kills the session's connections.
 * Kick: API `{"stop_sessid": id}`. List: API `{"clients": {...}}`. Both on `POST {api}/api`; local requests are
 * auto-authorised, others log in with Mist's MD5 challenge (controller_api.cpp `authorize`).
 */
import { createHash } from 'node:crypto';
import type { ServerConfig } from '../config/schema.js';
import { normalizeStream } from '../core/identity.js';
import type { ConnRef } from '../core/types.js';
import { count, header, isObject, plainIp, str, text } from './hook-util.js';
import { callServer, parseJsonAnswer, ServerUnreachable } from './outbound.js';
import type { Adapter, AdapterHost, HookRequest, HookResponse, LiveClient, ServerControl } from './types.js';

const yes = (): HookResponse => text(200, 'true');
const no = (): HookResponse => text(200, 'false');

export const mistAdapter: Adapter = {
  type: 'mistserver',

  async handle(req: HookRequest, server: ServerConfig, host: AdapterHost): Promise<HookResponse> {
    const trigger = header(req, 'x-trigger').trim().toUpperCase();
    const lines = req.body.toString('utf8').split('\n').map((l) => l.replace(/\r$/, ''));
    const line = (n: number): string => lines[n - 1] ?? '';
    switch (trigger) {
      case 'USER_NEW': {
        // stream, viewer ip, tkn, connector, request url, session id[, "false"]
        const sessid = line(6);
        const url = line(5);
        const q = url.indexOf('?');
        const d = await host.admit({
          server: server.name,
          protocol: line(4).toLowerCase() || 'http',
          action: 'play',
          stream: mistStream(line(1)),
          ip: plainIp(line(2)),
          token: realToken(line(3)),
          query: q >= 0 ? url.slice(q + 1) : '',
          clientId: sessid || undefined,
        });
        return d.allow ? yes() : no();
      }
      case 'USER_END': {
        // tkn, streams, connectors, hosts, duration, up, down, tags, hostTimes, connectorTimes, streamTimes, session id
        const sessid = line(12);
        // Mist's "up" is what it sent to the viewer, "down" what it received from it
        if (sessid) await host.connectionClosed(server.name, sessid, { bytesIn: count(line(7)), bytesOut: count(line(6)) });
        return yes();
      }
      case 'CONN_CLOSE':
        // per-connection close; the session (and Usher's view of it) ends with USER_END
        return yes();
      default:
        // an unknown trigger pointed here is answered false: for blocking triggers that is the safe side
        return text(400, 'false');
    }
  },

  control(server: ServerConfig): ServerControl {
    return {
      async kick(conn: ConnRef): Promise<void> {
        // stop_sessid has no answer of its own; an unknown id is simply nothing to stop
        await mistApi(server, { stop_sessid: conn.clientId });
      },
      async list(): Promise<LiveClient[]> {
        const r = await mistApi(server, { clients: { fields: ['host', 'stream', 'protocol', 'sessid', 'conntime'] } });
        const c = isObject(r.clients) ? r.clients : undefined;
        if (!c || !Array.isArray(c.fields)) throw new ServerUnreachable(server.name, 'clients: no fields in the answer');
        const col = (name: string): number => (c.fields as unknown[]).indexOf(name);
        const [iHost, iStream, iProto, iSess] = [col('host'), col('stream'), col('protocol'), col('sessid')];
        if (iSess < 0) throw new ServerUnreachable(server.name, 'clients: no sessid column');
        const out: LiveClient[] = [];
        const seen = new Set<string>();
        for (const row of Array.isArray(c.data) ? c.data : []) {
          if (!Array.isArray(row)) continue;
          const sessid = str(row[iSess]);
          // I/O/U-prefixed ids are inputs, outputs and unspecified sessions: USER_NEW never runs for them
          if (!sessid || /^[IOU]/.test(sessid) || seen.has(sessid)) continue;
          seen.add(sessid);
          out.push({
            clientId: sessid,
            stream: mistStream(str(row[iStream])),
            action: 'play',
            protocol: str(row[iProto]).split(/[,:]/)[0].toLowerCase() || 'http',
            ip: plainIp(str(row[iHost])),
          });
        }
        return out;
      },
    };
  },
};

/**
 * Mist wildcard streams are `base+name`; elsewhere the same stream is `base/name`, and tokens are signed for
 * that form, so the first `+` becomes a `/`.
 */
export function mistStream(name: string): string {
  return normalizeStream(name.replace('+', '/'));
}

/** When the player gave no token, Mist fills in its own pid (output.cpp); that is no credential. */
function realToken(tkn: string): string | undefined {
  return tkn === '' || /^\d+$/.test(tkn) ? undefined : tkn;
}

/**
 * One API call. With a user configured, Mist's challenge login: send the command with an empty password, and if
 * the answer is `CHALL`, again with MD5(MD5(password) + challenge). Local requests are authorised at once.
 */
async function mistApi(server: ServerConfig, command: Record<string, unknown>): Promise<Record<string, unknown>> {
  const first = await post(server, server.user ? { ...command, authorize: { username: server.user, password: '' } } : command);
  const auth = isObject(first.authorize) ? first.authorize : undefined;
  if (!auth || auth.status === 'OK') return first;
  if (auth.status === 'CHALL' && server.user && typeof auth.challenge === 'string') {
    const password = md5(md5(server.password) + auth.challenge);
    const second = await post(server, { ...command, authorize: { username: server.user, password } });
    const again = isObject(second.authorize) ? second.authorize : undefined;
    if (!again || again.status === 'OK') return second;
  }
  throw new ServerUnreachable(server.name, `API login refused (${str(auth.status) || 'no status'}); check user/password`);
}

async function post(server: ServerConfig, body: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await callServer(server, {
    method: 'POST',
    path: '/api',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new ServerUnreachable(server.name, `API answered ${res.status}`);
  const v = parseJsonAnswer(server, res.text);
  if (!isObject(v)) throw new ServerUnreachable(server.name, 'API answer is not an object');
  return v;
}

function md5(s: string): string {
  return createHash('md5').update(s).digest('hex');
}
