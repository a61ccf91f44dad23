/**
 * The admission API for whoever asks directly (an edge, a player backend, a script):
 * POST /v1/admission, POST /v1/sessions/{id}/heartbeat, POST /v1/sessions/{id}/end.
 * Authorised by the credential inside the request, not by the admin token.
 */
import { normalizeStream, validStreamName } from '../../core/identity.js';
import { API_SERVER, BUILTIN_SERVER, KINDS, type AdmissionRequest } from '../../core/types.js';
import { UsherError } from '../../errors.js';
import type { HttpContext } from '../context.js';
import { iso } from '../context.js';
import { json, oneOf, only, readJson, str } from '../io.js';
import { isAdmin } from '../admin-auth.js';
import type { Router } from '../router.js';

const FIELDS = ['server', 'protocol', 'action', 'stream', 'ip', 'token', 'user', 'password', 'query', 'clientId', 'userAgent', 'kind', 'cookie'];

export function admissionRoutes(r: Router, ctx: HttpContext): void {
  const max = ctx.config.http.maxBodyBytes;

  r.on('POST', '/v1/admission', async (req, res) => {
    const body = await readJson(req, max);
    const ar = parseAdmission(body, req.socket.remoteAddress ?? '', ctx, () => isAdmin(req, ctx));
    const d = await ctx.pipeline.admit(ar);
    if (d.allow) json(res, 200, { allow: true, sessionId: d.sessionId ?? null, kind: d.kind, expiresAt: iso(d.expiresAt ?? null) });
    // bad input is a 400 naming the field, a store that cannot write a 503, like every other endpoint
    else if (d.code === 'E_VALIDATION') json(res, 400, { code: d.code, message: d.reason, field: d.field ?? 'stream' });
    else if (d.code === 'E_UNAVAILABLE') json(res, 503, { allow: false, code: d.code, reason: d.reason });
    else json(res, 403, { allow: false, code: d.code, reason: d.reason });
  });

  r.on('POST', '/v1/sessions/:id/heartbeat', async (req, res, p) => {
    const s = await ctx.registry.heartbeat(p.id);
    if (s) return json(res, 200, { sessionId: s.id, status: s.status, expiresAt: iso(s.expiresAt) });
    await over(p.id, ctx);
  });

  r.on('POST', '/v1/sessions/:id/end', async (req, res, p) => {
    // A session held by a media-server connection ends when that connection closes; ending it here would free its
    // slot while it keeps playing. Only the operator may (and DELETE, which kicks, is usually what they want).
    const live = ctx.registry.live(p.id);
    if (live && live.server !== API_SERVER && !isAdmin(req, ctx)) {
      throw new UsherError('E_CONFLICT', `session is held by a connection on "${live.server}"; it ends when that connection closes`);
    }
    const rec = await ctx.registry.end(p.id, 'ended');
    if (rec) return json(res, 200, { sessionId: rec.id, status: rec.status, reason: rec.reason });
    await over(p.id, ctx);
  });
}

/** A session that is not live: 404 if unknown, 410 with its final status otherwise. */
async function over(id: string, ctx: HttpContext): Promise<never> {
  const rec = await ctx.store.get(id);
  if (!rec) throw new UsherError('E_NOT_FOUND', `no session ${id}`);
  throw new UsherError('E_SESSION_ENDED', `session is ${rec.status}${rec.reason ? ` (${rec.reason})` : ''}`);
}

/** Fields that speak for someone else (another server's connection, the viewer's address, an uncounted kind). */
const TRUSTED_FIELDS = ['server', 'clientId', 'ip', 'kind'] as const;

/**
 * `trusted`: the caller holds the admin token (an edge, a player backend). Anyone else is a client speaking for
 * itself: its address is the socket's, and it may not name a server, a connection or a kind.
 */
export function parseAdmission(body: Record<string, unknown>, remoteIp: string, ctx: HttpContext, trusted: () => boolean): AdmissionRequest {
  only(body, FIELDS);
  const speaksForOthers = TRUSTED_FIELDS.find((f) => body[f] !== undefined && body[f] !== null && body[f] !== '' && !(f === 'server' && body[f] === API_SERVER));
  // the token check costs two hashes: only done when a request actually speaks for someone else
  if (speaksForOthers && !trusted()) {
    throw new UsherError('E_UNAUTHORIZED', `${speaksForOthers} may only be given by a caller with the admin token`, speaksForOthers);
  }
  const action = oneOf(body, 'action', ['publish', 'play'] as const, true)!;
  const rawStream = str(body, 'stream', { required: true, max: 1024 })!;
  const stream = normalizeStream(rawStream);
  if (!validStreamName(stream)) throw new UsherError('E_VALIDATION', 'stream must be a path of 1-512 characters, without control characters or ".." segments', 'stream');
  const server = str(body, 'server', { max: 64 }) ?? API_SERVER;
  if (server !== API_SERVER && server !== BUILTIN_SERVER && !ctx.servers.names().includes(server)) {
    throw new UsherError('E_SERVER_UNKNOWN', `no server named "${server}"`, 'server');
  }
  const protocol = (str(body, 'protocol', { max: 32 }) ?? 'http').toLowerCase();
  if (!/^[a-z0-9+.-]+$/.test(protocol)) throw new UsherError('E_VALIDATION', 'protocol must be a short lower-case name', 'protocol');
  const ip = str(body, 'ip', { max: 64 }) ?? remoteIp.replace(/^::ffff:/, '');
  return {
    server,
    protocol,
    action,
    stream,
    ip,
    token: str(body, 'token'),
    user: str(body, 'user', { max: 256 }),
    password: str(body, 'password'),
    // a stream given as a URL path may carry its query (`live/demo?tkn=…`)
    query: str(body, 'query', { max: 8192 }) ?? (rawStream.includes('?') ? rawStream.slice(rawStream.indexOf('?') + 1) : undefined),
    cookie: str(body, 'cookie', { max: 8192 }),
    clientId: str(body, 'clientId', { max: 256 }),
    userAgent: str(body, 'userAgent', { max: 1024 }),
    kind: oneOf(body, 'kind', KINDS),
  };
}
