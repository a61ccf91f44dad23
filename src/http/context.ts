/**
 * What the HTTP routes may use. Routes translate HTTP to calls on these and back; they hold no state.
 */
import type { Config } from '../config/schema.js';
import type { AccountsAndPlans } from '../core/accounts-and-plans.js';
import type { AdmissionPipeline } from '../core/pipeline.js';
import type { Registry } from '../core/registry.js';
import type { SessionRecord } from '../core/types.js';
import type { Logger, RateLimitedLog } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import type { ServerHub } from '../adapters/hub.js';
import type { Static } from 'typebox';
import type { SessionItem } from './schemas.js';

export interface HttpContext {
  config: Config;
  log: Logger;
  store: Store;
  registry: Registry;
  pipeline: AdmissionPipeline;
  accounts: AccountsAndPlans;
  metrics: Metrics;
  servers: ServerHub;
}

/** What a route's handler gets: the context, plus the request-failure log under its budget (src/log.ts). */
export interface RouteContext extends HttpContext {
  failures: RateLimitedLog;
}

/** Epoch ms as ISO text; null for none, and for a value no date can hold (one bad row must never break a listing). */
const iso = (t: number | null): string | null => (t === null || !Number.isFinite(t) || Math.abs(t) > 8.64e15 ? null : new Date(t).toISOString());

/** The public shape of a session (SPEC §11): never the token. */
export function sessionItem(s: SessionRecord): Static<typeof SessionItem> {
  return {
    id: s.id,
    kind: s.kind,
    status: s.status,
    reason: s.reason,
    stream: s.stream,
    account: s.account,
    plan: s.plan,
    device: s.device,
    role: s.role,
    ip: s.ip,
    protocol: s.protocol,
    server: s.server,
    clientId: s.clientId,
    userAgent: s.userAgent,
    key: s.key,
    counted: s.counted,
    startedAt: iso(s.startedAt) ?? '',
    endedAt: iso(s.endedAt),
    lastSeen: iso(s.lastSeen),
    expiresAt: iso(s.expiresAt),
    bytesIn: s.bytesIn,
    bytesOut: s.bytesOut,
  };
}

export { iso };
