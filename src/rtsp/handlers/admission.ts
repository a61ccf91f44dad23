/**
 * Turning what an RTSP request presents into Usher's protocol-neutral AdmissionRequest, and a refusal into an RTSP
 * answer. The token comes from `?tkn=` / `?token=` (the pipeline reads the raw query), else from the Basic password;
 * Digest credentials are handed over as a function that checks a candidate secret (a stream key) against them.
 */
import { extractToken } from '../../core/identity.js';
import { BUILTIN_SERVER, type Action, type AdmissionRequest, type Decision } from '../../core/types.js';
import type { Ctx, Presented, Reply } from '../defs.js';
import { basicChallenge, digestChallenge, parseAuthorization, verifyDigest, type Credentials, type RtspUrl } from '../protocol/index.js';
import type { RtspSession } from '../session.js';

export const REALM = 'Usher';

/** The first Authorization value Usher understands (a client may send Basic and Digest). */
export function credentialsOf(values: readonly string[]): Credentials | undefined {
  for (const v of values) {
    const c = parseAuthorization(v);
    if (c) return c;
  }
  return undefined;
}

/** What this request presents for the stream its URL names. */
export function presentedBy(ctx: Ctx, url: RtspUrl): Presented {
  return { query: url.query, authorization: ctx.req.authorization, method: ctx.req.method };
}

/** One string for what was presented, to tell a repeated request with other credentials apart. */
export function credentialKey(p: Presented): string {
  return `${p.query}\0${p.authorization[0] ?? ''}`;
}

/**
 * Asks admission for session `s` (state Initial, known to kicks from now on) to do `s.kind`'s action on `stream`
 * with what `p` presents. Undefined when admitted (the session holds its ticket); else the reply to send (401 with
 * challenges, 403, 400, 500), and the session is closed.
 */
export async function admit(ctx: Ctx, s: RtspSession, stream: string, p: Presented): Promise<Reply | undefined> {
  const { host, conn, req } = ctx;
  const action: Action = s.kind === 'input' ? 'publish' : 'play';
  const ar: AdmissionRequest = { server: BUILTIN_SERVER, protocol: 'rtsp', action, stream, ip: conn.ip, clientId: s.clientId };
  if (p.query !== '') ar.query = p.query;
  const ua = req.headers.get('user-agent');
  if (ua) ar.userAgent = ua.slice(0, 256);
  const urlToken = extractToken({ query: p.query }, host.tokenParam);
  const creds = credentialsOf(p.authorization);
  if (creds?.scheme === 'basic') {
    ar.user = creds.user;
    ar.password = creds.password;
    // `rtsp://user:<token>@host/…`: the password is the token (and, like a URL token, part of the session key).
    if (!urlToken && creds.password) ar.token = creds.password;
  } else if (creds?.scheme === 'digest') {
    const fields = creds.fields;
    const method = p.method;
    const nonce = conn.nonce;
    ar.user = fields.username;
    ar.digest = (secret: string) => verifyDigest(fields, method, secret, { realm: REALM, nonce });
  }

  let d: Decision;
  try {
    d = await host.admit(ar);
  } catch (err) {
    host.log.error({ err }, 'admission failed');
    s.close('admission failed', 'keep');
    return { status: 500 };
  }
  if (!d.allow) {
    s.close(`refused: ${d.code ?? 'denied'}`, 'keep');
    host.log.debug({ stream, action, code: d.code, ip: conn.ip }, 'RTSP client refused');
    return refusal(ctx, d);
  }
  const ticket = { clientId: s.clientId, sessionId: d.sessionId, joined: d.joined === true, stream, credential: credentialKey(p) };
  // Closed while the answer was on its way (a kick, the connection went): the ticket is let go; nobody hears the reply.
  if (!s.admitted(ticket)) return { status: 400 };
  return undefined;
}

/**
 * The answer to a refusal. Whether to ask for credentials is the pipeline's decision alone (Decision.askCredentials,
 * MediaMTX's rule): then 401 with the challenges that can succeed — Basic, and Digest only where the pipeline says it
 * can (`digestPossible`: a stream with a static key; a signed token sent as the password needs Basic, since a Digest
 * response cannot carry it) — each only if `rtsp.authMethods` offers it, and 403 when none could. Otherwise 400 for a
 * bad stream name, 500 for an internal failure, 503 when admissions cannot be recorded or the key holds as many
 * connections as it may (the bound is the pipeline's), 403 for any other refusal.
 */
export function refusal(ctx: Ctx, d: Decision): Reply {
  if (d.askCredentials === true) {
    const headers: Array<[string, string]> = [];
    for (const m of ctx.host.cfg.authMethods) {
      if (m === 'basic') headers.push(['WWW-Authenticate', basicChallenge(REALM)]);
      else if (d.digestPossible === true) headers.push(['WWW-Authenticate', digestChallenge(REALM, ctx.conn.nonce)]);
    }
    return headers.length > 0 ? { status: 401, headers } : { status: 403 };
  }
  if (d.code === 'E_VALIDATION') return { status: 400 };
  if (d.code === 'E_INTERNAL') return { status: 500 };
  if (d.code === 'E_UNAVAILABLE' || d.code === 'E_TOO_MANY_CONNECTIONS') return { status: 503 };
  return { status: 403 };
}
