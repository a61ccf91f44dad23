/**
 * Admin: sessions (list/filter/get/kick), invalidate, clear history, streams, stats.
 */
import { parseDuration } from '../../config/duration.js';
import { KINDS, STATUSES } from '../../core/types.js';
import { UsherError } from '../../errors.js';
import { sessionItem, type HttpContext } from '../context.js';
import { json, oneOf, readJson, str } from '../io.js';
import type { ReqUrl, Router } from '../router.js';

export function pageOf(url: ReqUrl): { limit: number; offset: number } {
  const num = (name: string, def: number, max: number): number => {
    const v = url.searchParams.get(name);
    if (v === null || v === '') return def;
    if (!/^\d+$/.test(v) || Number(v) > max) throw new UsherError('E_VALIDATION', `${name} must be an integer from 0 to ${max}`, name);
    return Number(v);
  };
  return { limit: Math.max(1, num('limit', 100, 1000)), offset: num('offset', 0, 1e9) };
}

export function sessionRoutes(r: Router, ctx: HttpContext): void {
  const max = ctx.config.http.maxBodyBytes;

  r.on('GET', '/v1/sessions', async (_req, res, _p, url) => {
    const q = Object.fromEntries(url.searchParams);
    const filter = {
      status: oneOf(q, 'status', STATUSES),
      kind: oneOf(q, 'kind', KINDS),
      stream: str(q, 'stream', { max: 1024 }),
      account: str(q, 'account', { max: 256 }),
      server: str(q, 'server', { max: 64 }),
    };
    const page = pageOf(url);
    const { items, total } = await ctx.store.list(filter, page);
    json(res, 200, { items: items.map(sessionItem), total, limit: page.limit, offset: page.offset });
  });

  r.on('GET', '/v1/sessions/:id', async (_req, res, p) => {
    const s = await ctx.store.get(p.id);
    if (!s) throw new UsherError('E_NOT_FOUND', `no session ${p.id}`);
    json(res, 200, sessionItem(s));
  });

  r.on('DELETE', '/v1/sessions/:id', async (req, res, p, url) => {
    const body = await readJson(req, max, true);
    const reason = str(body, 'reason', { max: 512 }) ?? url.searchParams.get('reason') ?? 'kicked';
    if (reason.length > 512) throw new UsherError('E_VALIDATION', 'reason is too long', 'reason');
    const outcome = await ctx.registry.kill(p.id, reason);
    if (outcome === 'not_found') throw new UsherError('E_NOT_FOUND', `no session ${p.id}`);
    const s = await ctx.store.get(p.id);
    if (outcome === 'not_live') throw new UsherError('E_SESSION_ENDED', `session is already ${s?.status}`);
    json(res, outcome === 'killed' ? 200 : 202, sessionItem(s!));
  });

  r.on('POST', '/v1/sessions/invalidate', async (req, res, _p, url) => {
    const body = await readJson(req, max, true);
    const stream = str(body, 'stream', { max: 1024 }) ?? url.searchParams.get('stream') ?? undefined;
    const result = await ctx.pipeline.invalidate(stream || undefined);
    json(res, 200, result);
  });

  r.on('POST', '/v1/sessions/clear', async (req, res) => {
    const body = await readJson(req, max);
    const raw = body.olderThan;
    const secs = typeof raw === 'string' || typeof raw === 'number' ? parseDuration(raw) : undefined;
    if (secs === undefined) throw new UsherError('E_VALIDATION', 'olderThan must be a duration like 7d, 12h, 90s', 'olderThan');
    const deleted = await ctx.store.pruneHistory(ctx.registry.now() - secs * 1000);
    json(res, 200, { deleted });
  });

  r.on('GET', '/v1/streams', async (_req, res, _p, url) => {
    const page = pageOf(url);
    const { items, total } = await ctx.registry.streams(page);
    json(res, 200, {
      items: items.map((s) => ({ stream: s.stream, sessions: s.sessions, viewers: s.byKind.viewer, inputs: s.byKind.input, byKind: s.byKind })),
      total, limit: page.limit, offset: page.offset,
    });
  });

  r.on('GET', '/v1/stats', (_req, res) => {
    const st = ctx.registry.counts();
    json(res, 200, { ...st, admissions: ctx.pipeline.counters });
  });
}
