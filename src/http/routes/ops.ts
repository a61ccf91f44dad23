/**
 * Operations: health, Prometheus metrics, media-server hooks, servers (list, sync).
 */
import { constantTimeEqual } from '../../auth/credentials.js';
import { UsherError } from '../../errors.js';
import type { HttpContext } from '../context.js';
import { json, readBody, send } from '../io.js';
import type { ReqUrl, Router } from '../router.js';

export function opsRoutes(r: Router, ctx: HttpContext): void {
  r.on('GET', '/healthz', (_req, res) => {
    json(res, 200, { status: 'ok', live: ctx.registry.counts().live, uptimeSeconds: Math.round(process.uptime()) });
  });

  r.on('GET', '/metrics', (req, res) => {
    const token = ctx.config.http.metricsToken;
    if (token && !constantTimeEqual(req.headers.authorization ?? '', `Bearer ${token}`)) throw new UsherError('E_UNAUTHORIZED');
    send(res, 200, ctx.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
  });

  // Hooks: one endpoint per server type; Flussonic also posts events to /hooks/flussonic/events.
  const hook = async (req: Parameters<Parameters<Router['on']>[2]>[0], res: Parameters<Parameters<Router['on']>[2]>[1], type: string, rest: string, url: ReqUrl): Promise<void> => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? Buffer.alloc(0) : await readBody(req, ctx.config.http.maxBodyBytes);
    const out = await ctx.servers.handleHook(type, {
      method: req.method ?? 'GET',
      subpath: rest ? `/${rest}` : '',
      query: url.searchParams,
      headers: req.headers,
      body,
      remoteAddress: (req.socket.remoteAddress ?? '').replace(/^::ffff:/, ''),
    });
    send(res, out.status, out.body ?? '', out.headers?.['content-type'] ?? 'text/plain; charset=utf-8', out.headers);
  };
  for (const method of ['GET', 'POST']) {
    r.on(method, '/hooks/:type/*rest', (req, res, p, url) => hook(req, res, p.type, p.rest, url));
  }

  r.on('GET', '/v1/servers', (_req, res) => {
    const items = ctx.servers.info();
    json(res, 200, { items, total: items.length });
  });

  r.on('POST', '/v1/servers/:name/sync', async (_req, res, p) => {
    json(res, 200, await ctx.servers.sync(p.name));
  });

  r.on('POST', '/v1/servers/sync', async (_req, res) => {
    const items = await ctx.servers.syncAll();
    json(res, 200, { items, total: items.length });
  });
}
