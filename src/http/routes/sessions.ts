/**
 * Admin: sessions (list/filter/get/kick), invalidate, clear history, streams, stats.
 */
import { Type } from 'typebox';
import { parseDuration } from '../../config/duration.js';
import { UsherError } from '../../errors.js';
import { sessionItem } from '../context.js';
import { route } from '../route.js';
import {
  ClearBody, Id, InvalidateBody, Invalidated, KillBody, KillQuery, ListOf, Page, SessionItem, SessionsQuery, Stats, StreamItem,
} from '../schemas.js';

const list = route({
  method: 'GET',
  url: '/v1/sessions',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Sessions, newest first, filtered; one page',
  schema: { query: SessionsQuery, response: { 200: ListOf(SessionItem) } },
  async handler(req, _reply, ctx) {
    const { status, kind, stream, account, server, limit = 100, offset = 0 } = req.query;
    const filter = { status, kind, stream: stream || undefined, account: account || undefined, server: server || undefined };
    const { items, total } = await ctx.store.list(filter, { limit, offset });
    return { items: items.map(sessionItem), total, limit, offset };
  },
});

const get = route({
  method: 'GET',
  url: '/v1/sessions/:id',
  auth: 'admin',
  tag: 'sessions',
  summary: 'One session (404 E_NOT_FOUND)',
  schema: { params: Id, response: { 200: SessionItem } },
  async handler(req, _reply, ctx) {
    const s = await ctx.store.get(req.params.id);
    if (!s) throw new UsherError('E_NOT_FOUND', `no session ${req.params.id}`);
    return sessionItem(s);
  },
});

const kill = route({
  method: 'DELETE',
  url: '/v1/sessions/:id',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Kick: 200 once carried out, 202 while an external server is being asked; the key is then denied',
  schema: { params: Id, query: KillQuery, body: KillBody, response: { 200: SessionItem, 202: SessionItem } },
  body: 'json-optional',
  async handler(req, reply, ctx) {
    const { id } = req.params;
    const reason = req.body.reason ?? req.query.reason ?? 'kicked';
    const outcome = await ctx.registry.kill(id, reason);
    if (outcome === 'not_found') throw new UsherError('E_NOT_FOUND', `no session ${id}`);
    const s = await ctx.store.get(id);
    if (outcome === 'not_live' || !s) throw new UsherError('E_SESSION_ENDED', `session is already ${s?.status ?? 'over'}`);
    reply.code(outcome === 'killed' ? 200 : 202);
    return sessionItem(s);
  },
});

const invalidate = route({
  method: 'POST',
  url: '/v1/sessions/invalidate',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Re-admit the live sessions of a stream (or all) under today\'s rules; kill the ones that now fail',
  schema: { query: Type.Object({ stream: Type.Optional(Type.String({ maxLength: 1024 })) }), body: InvalidateBody, response: { 200: Invalidated } },
  body: 'json-optional',
  async handler(req, _reply, ctx) {
    const stream = req.body.stream || req.query.stream || undefined;
    return ctx.pipeline.invalidate(stream);
  },
});

const clear = route({
  method: 'POST',
  url: '/v1/sessions/clear',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Delete finished sessions (and their events) older than a duration',
  schema: { body: ClearBody, response: { 200: Type.Object({ deleted: Type.Integer() }) } },
  async handler(req, _reply, ctx) {
    const secs = parseDuration(req.body.olderThan);
    if (secs === undefined) throw new UsherError('E_VALIDATION', 'olderThan must be a duration like 7d, 12h, 90s', 'olderThan');
    // history may be kept for years, but not for ever: a cut past 100 years is a typo, not a policy
    if (secs > 100 * 365 * 86_400) throw new UsherError('E_VALIDATION', 'olderThan must be at most 36500d', 'olderThan');
    return { deleted: await ctx.store.pruneHistory(ctx.registry.now() - secs * 1000) };
  },
});

const streams = route({
  method: 'GET',
  url: '/v1/streams',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Streams with live sessions, busiest first; one page',
  schema: { query: Page, response: { 200: ListOf(StreamItem) } },
  async handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    const { items, total } = await ctx.registry.streams({ limit, offset });
    return {
      items: items.map((s) => ({ stream: s.stream, sessions: s.sessions, viewers: s.byKind.viewer, inputs: s.byKind.input, byKind: s.byKind })),
      total, limit, offset,
    };
  },
});

const stats = route({
  method: 'GET',
  url: '/v1/stats',
  auth: 'admin',
  tag: 'sessions',
  summary: 'Whole-registry counts and admission counters (O(1): walks no sessions)',
  schema: { response: { 200: Stats } },
  handler(_req, _reply, ctx) {
    const c = ctx.pipeline.counters;
    return { ...ctx.registry.counts(), admissions: { allowed: c.allowed, joined: c.joined, denied: c.denied as Record<string, number> } };
  },
});

export const sessionRoutes = [list, get, kill, invalidate, clear, streams, stats];
