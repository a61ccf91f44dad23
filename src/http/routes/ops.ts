/**
 * Operations: health, Prometheus metrics, media-server hooks, servers (list, sync), the OpenAPI document.
 */
import { Type } from 'typebox';
import { constantTimeEqual } from '../../auth/credentials.js';
import { UsherError } from '../../errors.js';
import type { HttpContext } from '../context.js';
import type { FastifyReply } from 'fastify';
import { route, type RawAnswer, type RouteRequest } from '../route.js';
import { Health, ListOf, Page, ServerItem, SyncReport } from '../schemas.js';
import { pageOf } from '../../core/page.js';

const healthz = route({
  method: 'GET',
  url: '/healthz',
  auth: 'public',
  tag: 'ops',
  summary: 'Readiness: 200 while the store can write, 503 E_UNAVAILABLE when it cannot (full disk, dead store)',
  schema: { response: { 200: Health, 503: Health } },
  handler(_req, reply, ctx) {
    const h = ctx.store.health();
    if (!h.writable) {
      reply.code(503);
      return { status: 'unavailable' as const, code: 'E_UNAVAILABLE', message: h.error ?? 'the store cannot write' };
    }
    return { status: 'ok' as const, live: ctx.registry.counts().live, uptimeSeconds: Math.round(process.uptime()) };
  },
});

const metrics = route({
  method: 'GET',
  url: '/metrics',
  auth: 'public',
  tag: 'ops',
  summary: 'Prometheus metrics (needs `Bearer <http.metricsToken>` when that is set)',
  schema: {
    response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: Type.String() } } } },
  },
  async handler(req, reply, ctx) {
    const token = ctx.config.http.metricsToken;
    if (token && !constantTimeEqual(req.headers.authorization ?? '', `Bearer ${token}`)) throw new UsherError('E_UNAUTHORIZED');
    reply.type(ctx.metrics.contentType);
    return ctx.metrics.render();
  },
});

const HookType = Type.String({ pattern: '^[a-z0-9-]{1,32}$', description: 'server type: nginx-rtmp, mediamtx, srs, ome, mistserver, flussonic, nms' });
const HookAnswer = {
  description: 'the answer the media server expects (docs/servers.md): a status, sometimes a body',
  content: { '*/*': { schema: Type.String() } },
};
/**
 * Only documented here: the hub reads the raw query itself (servers append their own fields and the client's args to
 * it, so `server` may repeat, or run on into them: see adapters/hub.ts serverParam).
 */
const HookQuery = Type.Object({
  server: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())], { description: 'the configured server that calls (the URL\'s first parameter)' })),
});

const HookParams = Type.Object({ type: HookType, '*': Type.Optional(Type.String({ maxLength: 256 })) });
type HookRequest = RouteRequest<{ params: typeof HookParams; response: Record<number, RawAnswer> }>;

/**
 * Hooks take the body as sent, whatever its type (Node-Media-Server posts JSON without a content type; nginx-rtmp
 * posts forms), and hand it to the hub unchanged; the adapter's answer goes back as it is.
 */
async function hook(req: HookRequest, reply: FastifyReply, ctx: HttpContext): Promise<string> {
  const raw = req.raw.url ?? '';
  const q = raw.indexOf('?');
  const rest = req.params['*'];
  const out = await ctx.servers.handleHook(req.params.type, {
    method: req.method,
    subpath: rest ? `/${rest}` : '',
    query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)),
    headers: req.headers,
    body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
    remoteAddress: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
  });
  reply.code(out.status).headers(out.headers ?? {});
  if (!out.headers?.['content-type']) reply.type('text/plain; charset=utf-8');
  return out.body ?? '';
}

const hookRoutes = (['GET', 'POST'] as const).flatMap((method) => [
  route({
    method,
    url: '/hooks/:type',
    auth: 'hook',
    tag: 'hooks',
    summary: `Media-server hook (${method}); \`?server=NAME\` names the configured server`,
    schema: { params: Type.Object({ type: HookType }), query: HookQuery, response: { 200: HookAnswer } },
    body: 'raw',
    handler: (req, reply, ctx) => hook(req as HookRequest, reply, ctx),
  }),
  route({
    method,
    url: '/hooks/:type/*',
    auth: 'hook',
    tag: 'hooks',
    summary: `Media-server hook with a sub-path (${method}; Flussonic's /events)`,
    schema: { params: HookParams, query: HookQuery, response: { 200: HookAnswer } },
    body: 'raw',
    handler: (req, reply, ctx) => hook(req as HookRequest, reply, ctx),
  }),
]);

const servers = route({
  method: 'GET',
  url: '/v1/servers',
  auth: 'admin',
  tag: 'servers',
  summary: 'Configured external media servers; one page',
  schema: { query: Page, response: { 200: ListOf(ServerItem) } },
  handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    return { ...pageOf(ctx.servers.info(), { limit, offset }), limit, offset };
  },
});

const syncOne = route({
  method: 'POST',
  url: '/v1/servers/:name/sync',
  auth: 'admin',
  tag: 'servers',
  summary: 'Reconcile with one server\'s client list now',
  schema: { params: Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }), response: { 200: SyncReport } },
  handler: (req, _reply, ctx) => ctx.servers.sync(req.params.name),
});

const syncAll = route({
  method: 'POST',
  url: '/v1/servers/sync',
  auth: 'admin',
  tag: 'servers',
  summary: 'Reconcile with every server that can list its clients',
  schema: { response: { 200: Type.Object({ items: Type.Array(SyncReport), total: Type.Integer() }) } },
  async handler(_req, _reply, ctx) {
    const items = await ctx.servers.syncAll();
    return { items, total: items.length };
  },
});

const openapi = route({
  method: 'GET',
  url: '/openapi.json',
  auth: 'public',
  tag: 'ops',
  summary: 'This API as an OpenAPI 3.1 document (generated from the route table)',
  schema: { response: { 200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: Type.Object({}, { additionalProperties: true }) } } } } },
  handler(req, reply) {
    reply.type('application/json; charset=utf-8');
    return JSON.stringify(req.server.swagger());
  },
});

export const opsRoutes = [healthz, metrics, ...hookRoutes, servers, syncOne, syncAll, openapi];
