/**
 * Turning an RTSP request into Usher's protocol-neutral AdmissionRequest, and a refusal into an RTSP answer.
 * The token comes from `?tkn=` / `?token=` (the pipeline reads the raw query), else from the Basic password;
 * Digest credentials are handed over as a function that checks a candidate secret (a stream key) against them.
 */
import { extractToken } from '../../core/identity.js';
import { BUILTIN_SERVER, type Action, type AdmissionRequest, type Decision } from '../../core/types.js';
import type { Reply } from '../conn.js';
import { basicChallenge, digestChallenge, parseAuthorization, verifyDigest, type Credentials, type RtspUrl } from '../protocol/index.js';
import type { Ticket } from '../session.js';
import type { Ctx } from './context.js';

export const REALM = 'Usher';

export type Admitted = { ok: true; ticket: Ticket } | { ok: false; reply: Reply };

/** The first Authorization value Usher understands (a client may send Basic and Digest). */
export function credentialsOf(values: readonly string[]): Credentials | undefined {
  for (const v of values) {
    const c = parseAuthorization(v);
    if (c) return c;
  }
  return undefined;
}

export async function admit(ctx: Ctx, url: RtspUrl, action: Action, sid: string): Promise<Admitted> {
  const { server, conn, req } = ctx;
  const clientId = `rtsp-${sid}`;
  const ar: AdmissionRequest = { server: BUILTIN_SERVER, protocol: 'rtsp', action, stream: url.path, ip: conn.ip, clientId };
  if (url.query !== '') ar.query = url.query;
  const ua = req.headers.get('user-agent');
  if (ua) ar.userAgent = ua.slice(0, 256);
  const urlToken = extractToken({ query: url.query }, server.config.sessions.tokenParam);
  const creds = credentialsOf(req.authorization);
  if (creds?.scheme === 'basic') {
    ar.user = creds.user;
    ar.password = creds.password;
    // `rtsp://user:<token>@host/…`: the password is the token (and, like a URL token, part of the session key).
    if (!urlToken && creds.password) ar.token = creds.password;
  } else if (creds?.scheme === 'digest') {
    const fields = creds.fields;
    const method = req.method;
    const nonce = conn.nonce;
    ar.user = fields.username;
    ar.digest = (secret: string) => verifyDigest(fields, method, secret, { realm: REALM, nonce });
  }

  // The client is known by this id from the moment admission records it: a kick that comes while the answer is
  // on its way (a limit takeover, an operator) closes this connection, and the handler then releases the admission.
  server.owners.set(clientId, conn);
  let d: Decision;
  try {
    d = await server.pipeline.admit(ar);
  } catch (err) {
    server.log.error({ err }, 'admission failed');
    if (server.owners.get(clientId) === conn) server.owners.delete(clientId);
    return { ok: false, reply: { status: 500 } };
  }
  if (!d.allow) {
    if (server.owners.get(clientId) === conn) server.owners.delete(clientId);
    server.log.debug({ stream: url.path, action, code: d.code, ip: conn.ip }, 'RTSP client refused');
    return { ok: false, reply: refusal(ctx, d, creds !== undefined) };
  }
  const credential = `${url.query}\0${req.authorization[0] ?? ''}`;
  return { ok: true, ticket: { clientId, sessionId: d.sessionId, joined: d.joined === true, stream: url.path, credential } };
}

/**
 * 401 with challenges when the client should retry with credentials (none given, or Basic/Digest ones that were
 * wrong); 400 for a bad stream name; 500 for an internal failure; 403 otherwise.
 */
export function refusal(ctx: Ctx, d: Decision, hadCredentials: boolean): Reply {
  const retry = d.askCredentials === true || (hadCredentials && (d.code === 'E_TOKEN_INVALID' || d.code === 'E_TOKEN_EXPIRED'));
  if (retry) {
    const headers: Array<[string, string]> = [];
    for (const m of ctx.server.cfg.authMethods) {
      headers.push(['WWW-Authenticate', m === 'digest' ? digestChallenge(REALM, ctx.conn.nonce) : basicChallenge(REALM)]);
    }
    if (headers.length === 0) headers.push(['WWW-Authenticate', basicChallenge(REALM)]);
    return { status: 401, headers };
  }
  if (d.code === 'E_VALIDATION') return { status: 400 };
  if (d.code === 'E_INTERNAL') return { status: 500 };
  return { status: 403 };
}
