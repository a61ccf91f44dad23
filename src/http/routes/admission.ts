/**
 * The admission API for whoever asks directly (an edge, a player backend, a script):
 * POST /v1/admission, POST /v1/sessions/{id}/heartbeat, POST /v1/sessions/{id}/end.
 * Authorised by the credential inside the request, not by the admin token (auth mode `public`).
 */
import type { IncomingMessage } from 'node:http';
import { normalizeStream, validStreamName } from '../../core/identity.js';
import { API_SERVER, BUILTIN_SERVER, type AdmissionRequest, type Decision } from '../../core/types.js';
import { UsherError } from '../../errors.js';
import { isAdmin } from '../admin-auth.js';
import { iso, type HttpContext } from '../context.js';
import { route } from '../route.js';
import { AdmissionAllowed, AdmissionBody, AdmissionDenied, Id, Nullable, type AdmissionBodyT } from '../schemas.js';
import { Type } from 'typebox';

/** Fields that speak for someone else (another server's connection, the viewer's address, an uncounted kind). */
const TRUSTED_FIELDS = ['server', 'clientId', 'ip', 'kind'] as const;

/** An empty string is the same as an absent field (form bodies send every field, some empty). */
const given = (v: string | undefined): string | undefined => (v === '' ? undefined : v);

const admission = route({
  method: 'POST',
  url: '/v1/admission',
  auth: 'public',
  tag: 'admission',
  summary: 'Ask whether a publish or play may start (JSON, or form fields)',
  description: 'A denial is an answer (403 with its code), not an error. 503 while the store cannot write.',
  schema: {
    body: AdmissionBody,
    response: { 200: AdmissionAllowed, 403: AdmissionDenied, 503: AdmissionDenied },
  },
  consumes: ['application/json', 'application/x-www-form-urlencoded'],
  async handler(req, reply, ctx) {
    const ar = parseAdmission(req.body, req, ctx);
    let d: Decision;
    try {
      d = await ctx.pipeline.admit(ar);
    } catch (err) {
      // a store that cannot write fails every admission: one answer (503, in the admission's shape), bounded logs
      const h = ctx.store.health();
      if (h.writable) throw err;
      ctx.failures.error({ err, path: '/v1/admission', store: h.error }, 'admission failed: the store cannot write');
      d = { allow: false, kind: 'viewer', code: 'E_UNAVAILABLE', reason: 'the store cannot write; try again later' };
    }
    if (d.allow) return { allow: true, sessionId: d.sessionId ?? null, kind: d.kind, expiresAt: iso(d.expiresAt ?? null) };
    reply.code(d.code === 'E_UNAVAILABLE' ? 503 : 403);
    return { allow: false, code: d.code ?? 'E_INTERNAL', reason: d.reason ?? '' };
  },
});

const SessionAnswer = Type.Object({
  sessionId: Type.String(),
  status: Type.String(),
  expiresAt: Type.Optional(Nullable(Type.String())),
  reason: Type.Optional(Nullable(Type.String())),
});

const heartbeat = route({
  method: 'POST',
  url: '/v1/sessions/:id/heartbeat',
  auth: 'public',
  tag: 'admission',
  summary: 'Keep an API session alive (404 unknown, 410 over)',
  schema: { params: Id, response: { 200: SessionAnswer } },
  async handler(req, _reply, ctx) {
    const s = await ctx.registry.heartbeat(req.params.id);
    if (s) return { sessionId: s.id, status: s.status, expiresAt: iso(s.expiresAt) };
    return over(req.params.id, ctx);
  },
});

const end = route({
  method: 'POST',
  url: '/v1/sessions/:id/end',
  auth: 'public',
  tag: 'admission',
  summary: 'The client is done (409 for a session a media-server connection holds, unless admin)',
  schema: { params: Id, response: { 200: SessionAnswer } },
  async handler(req, _reply, ctx) {
    const { id } = req.params;
    // A session held by a media-server connection ends when that connection closes; ending it here would free its
    // slot while it keeps playing. Only the operator may (and DELETE, which kicks, is usually what they want).
    const live = ctx.registry.live(id);
    if (live && live.server !== API_SERVER && !isAdmin(req, ctx)) {
      throw new UsherError('E_CONFLICT', `session is held by a connection on "${live.server}"; it ends when that connection closes`);
    }
    const rec = await ctx.registry.end(id, 'ended');
    if (rec) return { sessionId: rec.id, status: rec.status, reason: rec.reason };
    return over(id, ctx);
  },
});

export const admissionRoutes = [admission, heartbeat, end];

/** A session that is not live: 404 if unknown, 410 with its final status otherwise. */
async function over(id: string, ctx: HttpContext): Promise<never> {
  const rec = await ctx.store.get(id);
  if (!rec) throw new UsherError('E_NOT_FOUND', `no session ${id}`);
  throw new UsherError('E_SESSION_ENDED', `session is ${rec.status}${rec.reason ? ` (${rec.reason})` : ''}`);
}

/**
 * The validated body (schemas.ts AdmissionBody) as the pipeline's protocol-neutral request.
 * A caller with the admin token (an edge, a player backend) may speak for others. Anyone else is a client speaking for
 * itself: its address is the socket's, and it may not name a server, a connection or a kind (401 with the field).
 * The stream name is checked in full here (normalised, no `..` segment, no control character), so every bad name
 * is one answer: 400 E_VALIDATION, field `stream`.
 */
export function parseAdmission(body: AdmissionBodyT, req: Pick<IncomingMessage, 'headers' | 'socket'>, ctx: HttpContext): AdmissionRequest {
  const speaksForOthers = TRUSTED_FIELDS.find((f) => given(body[f]) !== undefined && !(f === 'server' && body[f] === API_SERVER));
  // the token check costs two hashes: only done when a request actually speaks for someone else
  if (speaksForOthers && !isAdmin(req, ctx)) {
    throw new UsherError('E_UNAUTHORIZED', `${speaksForOthers} may only be given by a caller with the admin token`, speaksForOthers);
  }
  const rawStream = body.stream;
  const stream = normalizeStream(rawStream);
  if (!validStreamName(stream)) {
    throw new UsherError('E_VALIDATION', 'stream must be a non-empty name of at most 512 characters, without control characters or ".." segments', 'stream');
  }
  const server = given(body.server) ?? API_SERVER;
  if (server !== API_SERVER && server !== BUILTIN_SERVER && !ctx.servers.names().includes(server)) {
    throw new UsherError('E_SERVER_UNKNOWN', `no server named "${server}"`, 'server');
  }
  const protocol = (given(body.protocol) ?? 'http').toLowerCase();
  if (!/^[a-z0-9+.-]+$/.test(protocol)) throw new UsherError('E_VALIDATION', 'protocol must be a short lower-case name', 'protocol');
  return {
    server,
    protocol,
    action: body.action,
    stream,
    ip: given(body.ip) ?? (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    token: given(body.token),
    user: given(body.user),
    password: given(body.password),
    // a stream given as a URL path may carry its query (`live/demo?tkn=…`)
    query: given(body.query) ?? (rawStream.includes('?') ? rawStream.slice(rawStream.indexOf('?') + 1) : undefined),
    cookie: given(body.cookie),
    clientId: given(body.clientId),
    userAgent: given(body.userAgent),
    kind: body.kind || undefined,
  };
}
