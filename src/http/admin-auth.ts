/**
 * The admin token check, shared by the admin routes and the routes that trust some fields only from an admin.
 */
import type { IncomingMessage } from 'node:http';
import { constantTimeEqual } from '../auth/credentials.js';
import { isLoopback } from '../config/load.js';
import type { HttpContext } from './context.js';

/**
 * Whether the caller holds the admin token (`Authorization: Bearer <http.adminToken>`, compared in constant time).
 * With none configured (allowed only on a loopback listen address), loopback callers count as admin and nobody
 * else does. `req` is node's request or fastify's (both carry `headers` and `socket`).
 */
export function isAdmin(req: Pick<IncomingMessage, 'headers' | 'socket'>, ctx: Pick<HttpContext, 'config'>): boolean {
  const token = ctx.config.http.adminToken;
  if (token === '') return isLoopback((req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''));
  return constantTimeEqual(req.headers.authorization ?? '', `Bearer ${token}`);
}
