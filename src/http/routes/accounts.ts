/**
 * Admin: accounts and plans (get/set limits), denied keys (list/clear).
 */
import { MAX_DURATION_SECONDS, MAX_DURATION_TEXT, parseDuration } from '../../config/duration.js';
import type { AccountRecord, PlanRecord } from '../../core/types.js';
import { UsherError } from '../../errors.js';
import { iso, type HttpContext } from '../context.js';
import { bool, int, json, oneOf, only, readJson, str, strList } from '../io.js';
import type { Router } from '../router.js';
import { pageOf } from './sessions.js';

const NAME = /^[A-Za-z0-9_.@:-]{1,256}$/;

function checkName(v: string, field: string): string {
  if (!NAME.test(v)) throw new UsherError('E_VALIDATION', `${field} must be 1-256 characters of letters, digits, _ . @ : -`, field);
  return v;
}

const accountItem = (a: AccountRecord) => ({ id: a.id, plan: a.plan, maxSessions: a.maxSessions, disabled: a.disabled, updatedAt: iso(a.updatedAt) });

export function accountRoutes(r: Router, ctx: HttpContext): void {
  const max = ctx.config.http.maxBodyBytes;

  r.on('GET', '/v1/accounts', (_req, res) => {
    const items = ctx.accounts.accountList().map(accountItem);
    json(res, 200, { items, total: items.length });
  });

  r.on('GET', '/v1/accounts/:id', async (_req, res, p) => {
    const a = ctx.accounts.account(p.id);
    const use = await ctx.registry.accountUse(p.id);
    const live = use.sessions;
    // An account without a record is valid (its token's plan applies): show what applies to it.
    const { plan } = ctx.accounts.resolve(p.id, null);
    json(res, 200, { ...(a ? accountItem(a) : { id: p.id, plan: null, maxSessions: null, disabled: false, updatedAt: null }), live, effectivePlan: plan.name, stored: !!a });
  });

  r.on('PUT', '/v1/accounts/:id', async (req, res, p) => {
    const id = checkName(p.id, 'id');
    const body = await readJson(req, max);
    only(body, ['plan', 'maxSessions', 'disabled']);
    const plan = str(body, 'plan', { max: 256 });
    if (plan !== undefined && !ctx.accounts.plan(plan)) throw new UsherError('E_VALIDATION', `no plan named "${plan}"`, 'plan');
    const prev = ctx.accounts.account(id);
    const maxSessions = int(body, 'maxSessions', { min: 0, max: 1_000_000, nullable: true });
    const a: AccountRecord = {
      id,
      plan: body.plan === null ? null : plan ?? prev?.plan ?? null,
      maxSessions: maxSessions === undefined ? prev?.maxSessions ?? null : maxSessions,
      disabled: bool(body, 'disabled') ?? prev?.disabled ?? false,
      updatedAt: ctx.registry.now(),
    };
    await ctx.accounts.putAccount(a);
    json(res, 200, accountItem(a));
  });

  r.on('GET', '/v1/plans', (_req, res) => {
    const items = ctx.accounts.planList();
    json(res, 200, { items, total: items.length });
  });

  r.on('GET', '/v1/plans/:name', (_req, res, p) => {
    const plan = ctx.accounts.planList().find((x) => x.name === p.name);
    if (!plan) throw new UsherError('E_NOT_FOUND', `no plan named "${p.name}"`);
    json(res, 200, plan);
  });

  r.on('PUT', '/v1/plans/:name', async (req, res, p) => {
    const name = checkName(p.name, 'name');
    const body = await readJson(req, max);
    only(body, ['maxSessions', 'onLimit', 'exemptStreams', 'exemptProtocols', 'maxDurationSeconds']);
    const prev = ctx.accounts.plan(name);
    let maxDurationSeconds = prev?.maxDurationSeconds ?? 0;
    if (body.maxDurationSeconds !== undefined) {
      const v = body.maxDurationSeconds;
      const secs = typeof v === 'number' || typeof v === 'string' ? parseDuration(v) : undefined;
      if (secs === undefined) throw new UsherError('E_VALIDATION', 'maxDurationSeconds must be a duration like 3600, "1h"', 'maxDurationSeconds');
      if (secs > MAX_DURATION_SECONDS) throw new UsherError('E_VALIDATION', `maxDurationSeconds must be at most ${MAX_DURATION_TEXT}`, 'maxDurationSeconds');
      maxDurationSeconds = secs;
    }
    const plan: PlanRecord = {
      name,
      maxSessions: int(body, 'maxSessions', { min: 0, max: 1_000_000 }) ?? prev?.maxSessions ?? 0,
      onLimit: oneOf(body, 'onLimit', ['deny', 'killOldest'] as const) ?? prev?.onLimit ?? 'deny',
      exemptStreams: strList(body, 'exemptStreams') ?? prev?.exemptStreams ?? [],
      exemptProtocols: strList(body, 'exemptProtocols') ?? prev?.exemptProtocols ?? [],
      maxDurationSeconds,
    };
    await ctx.accounts.putPlan(plan);
    json(res, 200, { ...plan, source: 'api' });
  });

  r.on('GET', '/v1/denied', (_req, res, _p, url) => {
    const page = pageOf(url);
    const { items, total } = ctx.registry.deniedList(page);
    json(res, 200, { items: items.map((d) => ({ ...d, until: iso(d.until) })), total, limit: page.limit, offset: page.offset });
  });

  // refusals that named nobody (forged or garbled tokens, wrong passwords): bounded counters per source and code
  r.on('GET', '/v1/denials', async (_req, res, _p, url) => {
    const page = pageOf(url);
    const { items, total } = await ctx.store.listDenialCounts(page);
    json(res, 200, { items: items.map((d) => ({ ...d, firstAt: iso(d.firstAt), lastAt: iso(d.lastAt) })), total, limit: page.limit, offset: page.offset });
  });

  r.on('DELETE', '/v1/denied', async (_req, res) => {
    json(res, 200, { cleared: await ctx.registry.clearDenied() });
  });

  r.on('DELETE', '/v1/denied/:key', async (_req, res, p) => {
    const cleared = await ctx.registry.clearDenied(p.key);
    if (cleared === 0) throw new UsherError('E_NOT_FOUND', 'no such denied key');
    json(res, 200, { cleared });
  });
}
