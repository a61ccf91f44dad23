/**
 * Admin: accounts and plans (get/set limits), denied keys (list/clear).
 */
import { Type } from 'typebox';
import { MAX_DURATION_SECONDS, MAX_DURATION_TEXT, parseDuration } from '../../config/duration.js';
import type { AccountRecord, PlanRecord } from '../../core/types.js';
import { UsherError } from '../../errors.js';
import { iso } from '../context.js';
import { pageOf } from '../../core/page.js';
import { route } from '../route.js';
import {
  AccountDetail, AccountItem, AccountPut, Cleared, DenialCountItem, DeniedItem, ListOf, NAME_PATTERN, Page, PlanItem, PlanPut,
} from '../schemas.js';

const accountItem = (a: AccountRecord) => ({ id: a.id, plan: a.plan, maxSessions: a.maxSessions, disabled: a.disabled, updatedAt: iso(a.updatedAt) });

const AccountId = Type.Object({ id: Type.String({ pattern: NAME_PATTERN, description: '1-256 letters, digits, _ . @ : -' }) });
const PlanName = Type.Object({ name: Type.String({ pattern: NAME_PATTERN, description: '1-256 letters, digits, _ . @ : -' }) });

const accounts = route({
  method: 'GET',
  url: '/v1/accounts',
  auth: 'admin',
  tag: 'accounts',
  summary: 'Accounts with overrides of their own; one page',
  schema: { query: Page, response: { 200: ListOf(AccountItem) } },
  handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    const { items, total } = pageOf(ctx.accounts.accountList(), { limit, offset });
    return { items: items.map(accountItem), total, limit, offset };
  },
});

const account = route({
  method: 'GET',
  url: '/v1/accounts/:id',
  auth: 'admin',
  tag: 'accounts',
  summary: 'One account: its overrides, live sessions and the plan that applies',
  schema: { params: AccountId, response: { 200: AccountDetail } },
  async handler(req, _reply, ctx) {
    const { id } = req.params;
    const a = ctx.accounts.account(id);
    const use = await ctx.registry.accountUse(id);
    // An account without a record is valid (its token's plan applies): show what applies to it.
    const { plan } = ctx.accounts.resolve(id, null);
    const own = a ? accountItem(a) : { id, plan: null, maxSessions: null, disabled: false, updatedAt: null };
    return { ...own, live: use.sessions, effectivePlan: plan.name, stored: !!a };
  },
});

const putAccount = route({
  method: 'PUT',
  url: '/v1/accounts/:id',
  auth: 'admin',
  tag: 'accounts',
  summary: 'Set an account\'s overrides (they win over the token\'s plan claim); omitted fields keep their value',
  schema: { params: AccountId, body: AccountPut, response: { 200: AccountItem } },
  async handler(req, _reply, ctx) {
    const { id } = req.params;
    const body = req.body;
    if (typeof body.plan === 'string' && !ctx.accounts.plan(body.plan)) throw new UsherError('E_VALIDATION', `no plan named "${body.plan}"`, 'plan');
    const prev = ctx.accounts.account(id);
    const a: AccountRecord = {
      id,
      plan: body.plan === undefined ? prev?.plan ?? null : body.plan,
      maxSessions: body.maxSessions === undefined ? prev?.maxSessions ?? null : body.maxSessions,
      disabled: body.disabled ?? prev?.disabled ?? false,
      updatedAt: ctx.registry.now(),
    };
    await ctx.accounts.putAccount(a);
    return accountItem(a);
  },
});

const plans = route({
  method: 'GET',
  url: '/v1/plans',
  auth: 'admin',
  tag: 'accounts',
  summary: 'Plans (from the config and set here); one page',
  schema: { query: Page, response: { 200: ListOf(PlanItem) } },
  handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    return { ...pageOf(ctx.accounts.planList(), { limit, offset }), limit, offset };
  },
});

const plan = route({
  method: 'GET',
  url: '/v1/plans/:name',
  auth: 'admin',
  tag: 'accounts',
  summary: 'One plan',
  schema: { params: PlanName, response: { 200: PlanItem } },
  handler(req, _reply, ctx) {
    const p = ctx.accounts.planList().find((x) => x.name === req.params.name);
    if (!p) throw new UsherError('E_NOT_FOUND', `no plan named "${req.params.name}"`);
    return p;
  },
});

const putPlan = route({
  method: 'PUT',
  url: '/v1/plans/:name',
  auth: 'admin',
  tag: 'accounts',
  summary: 'Set a plan (overrides the config\'s plan of the same name); omitted fields keep their value',
  schema: { params: PlanName, body: PlanPut, response: { 200: PlanItem } },
  async handler(req, _reply, ctx) {
    const { name } = req.params;
    const body = req.body;
    const prev = ctx.accounts.plan(name);
    let maxDurationSeconds = prev?.maxDurationSeconds ?? 0;
    if (body.maxDurationSeconds !== undefined) {
      const secs = parseDuration(body.maxDurationSeconds);
      if (secs === undefined) throw new UsherError('E_VALIDATION', 'maxDurationSeconds must be a duration like 3600, "1h"', 'maxDurationSeconds');
      if (secs > MAX_DURATION_SECONDS) throw new UsherError('E_VALIDATION', `maxDurationSeconds must be at most ${MAX_DURATION_TEXT}`, 'maxDurationSeconds');
      maxDurationSeconds = secs;
    }
    const p: PlanRecord = {
      name,
      maxSessions: body.maxSessions ?? prev?.maxSessions ?? 0,
      onLimit: body.onLimit ?? prev?.onLimit ?? 'deny',
      exemptStreams: body.exemptStreams ?? prev?.exemptStreams ?? [],
      exemptProtocols: body.exemptProtocols ?? prev?.exemptProtocols ?? [],
      maxDurationSeconds,
    };
    await ctx.accounts.putPlan(p);
    return { ...p, source: 'api' as const };
  },
});

const denied = route({
  method: 'GET',
  url: '/v1/denied',
  auth: 'admin',
  tag: 'denied',
  summary: 'Keys in denied memory, soonest to expire first; one page',
  schema: { query: Page, response: { 200: ListOf(DeniedItem) } },
  handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    const { items, total } = ctx.registry.deniedList({ limit, offset });
    return { items: items.map((d) => ({ ...d, until: iso(d.until) ?? '' })), total, limit, offset };
  },
});

const denials = route({
  method: 'GET',
  url: '/v1/denials',
  auth: 'admin',
  tag: 'denied',
  summary: 'Refusals that named nobody (forged or garbled tokens, wrong passwords): bounded counters per source and code, most recent first; one page',
  schema: { query: Page, response: { 200: ListOf(DenialCountItem) } },
  async handler(req, _reply, ctx) {
    const { limit = 100, offset = 0 } = req.query;
    const { items, total } = await ctx.store.listDenialCounts({ limit, offset });
    return { items: items.map((d) => ({ ...d, firstAt: iso(d.firstAt) ?? '', lastAt: iso(d.lastAt) ?? '' })), total, limit, offset };
  },
});

const clearDenied = route({
  method: 'DELETE',
  url: '/v1/denied',
  auth: 'admin',
  tag: 'denied',
  summary: 'Clear denied memory',
  schema: { response: { 200: Cleared } },
  async handler(_req, _reply, ctx) {
    return { cleared: await ctx.registry.clearDenied() };
  },
});

const clearDeniedKey = route({
  method: 'DELETE',
  url: '/v1/denied/:key',
  auth: 'admin',
  tag: 'denied',
  summary: 'Clear one denied key (404 when it is not there)',
  schema: { params: Type.Object({ key: Type.String({ minLength: 1, maxLength: 256 }) }), response: { 200: Cleared } },
  async handler(req, _reply, ctx) {
    const cleared = await ctx.registry.clearDenied(req.params.key);
    if (cleared === 0) throw new UsherError('E_NOT_FOUND', 'no such denied key');
    return { cleared };
  },
});

export const accountRoutes = [accounts, account, putAccount, plans, plan, putPlan, denied, denials, clearDenied, clearDeniedKey];
