/**
 * The HTTP server: hooks, admission, admin API, metrics, health. Bounded everywhere: header size and time,
 * request time, body size, keep-alive time. The admin API sits behind the bearer token.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { UsherError } from '../errors.js';
import { isAdmin } from './admin-auth.js';
import type { HttpContext } from './context.js';
import { sendError } from './io.js';
import { ReqUrl, Router } from './router.js';
import { accountRoutes } from './routes/accounts.js';
import { admissionRoutes } from './routes/admission.js';
import { opsRoutes } from './routes/ops.js';
import { sessionRoutes } from './routes/sessions.js';

/** Paths under /v1 that are not admin: authorised by the credential they carry (or the session id they name). */
const PUBLIC_V1 = [/^\/v1\/admission$/, /^\/v1\/sessions\/[^/]+\/(heartbeat|end)$/, /^\/v1\/client\//];

export function buildRouter(ctx: HttpContext): Router {
  const r = new Router();
  admissionRoutes(r, ctx);
  sessionRoutes(r, ctx);
  accountRoutes(r, ctx);
  opsRoutes(r, ctx);
  return r;
}

export function createHttpServer(ctx: HttpContext, router: Router = buildRouter(ctx)): Server {
  const { http } = ctx.config;
  const server = createServer(
    {
      requestTimeout: http.requestTimeoutMs,
      headersTimeout: http.headersTimeoutMs,
      keepAliveTimeout: http.keepAliveTimeoutMs,
      maxHeaderSize: 16 * 1024,
    },
    (req, res) => void handle(req, res, ctx, router),
  );
  server.maxRequestsPerSocket = 0;
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
    else socket.destroy();
  });
  return server;
}

async function handle(req: IncomingMessage, res: ServerResponse, ctx: HttpContext, router: Router): Promise<void> {
  ctx.metrics.httpRequests++;
  try {
    const url = new ReqUrl(req.url ?? '/');
    const m = router.match(req.method ?? 'GET', url.pathname);
    if (!m) throw new UsherError('E_NOT_FOUND', `no route for ${url.pathname}`);
    if ('methodNotAllowed' in m) throw new UsherError('E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${url.pathname}`);
    if (url.pathname.startsWith('/v1/') && !PUBLIC_V1.some((re) => re.test(url.pathname))) authorizeAdmin(req, ctx);
    await m.handler(req, res, m.params, url);
  } catch (e) {
    if (e instanceof UsherError) {
      sendError(res, e);
    } else {
      ctx.log.error({ err: e, method: req.method, path: (req.url ?? '').split('?')[0] }, 'request failed');
      sendError(res, new UsherError('E_INTERNAL'));
    }
  }
}

function authorizeAdmin(req: IncomingMessage, ctx: HttpContext): void {
  if (!isAdmin(req, ctx)) throw new UsherError('E_UNAUTHORIZED');
}
