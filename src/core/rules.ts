/**
 * Business rules (SPEC §3.4), as pure functions of the request, the verified claims and the catalog.
 * The counting itself happens atomically in the store; these functions only say what to count against.
 */
import type { Config } from '../config/schema.js';
import { UsherError } from '../errors.js';
import type { Catalog } from './catalog.js';
import { streamMatches } from './identity.js';
import type { AdmitLimits } from '../store/store.js';
import type { AccountRecord, Action, Claims, Kind, PlanRecord } from './types.js';

/** May this credential do this action on this stream? */
export function checkRights(action: Action, stream: string, claims: Claims): UsherError | undefined {
  if (!claims.actions.has(action)) {
    return new UsherError('E_STREAM_FORBIDDEN', action === 'publish' ? 'this credential may not publish' : 'this credential may not play');
  }
  if (claims.streams !== null && !claims.streams.some((p) => streamMatches(p, stream))) {
    return new UsherError('E_STREAM_FORBIDDEN', `this credential is not valid for stream "${stream}"`);
  }
  return undefined;
}

export interface Applied {
  plan: PlanRecord;
  account: AccountRecord | undefined;
  counted: boolean;
  limits: AdmitLimits;
  expiresAt: number | null;
}

/** Which plan applies, whether this session counts, the limits to check atomically, and its lifetime. */
export function applyPlan(
  catalog: Catalog,
  streams: Config['streams'],
  claims: Claims,
  kind: Kind,
  stream: string,
  protocol: string,
  now: number,
): Applied | UsherError {
  const { plan, account } = catalog.resolve(claims.account, claims.plan);
  if (account?.disabled) return new UsherError('E_ACCOUNT_DISABLED');
  const exempt = plan.exemptStreams.some((p) => streamMatches(p, stream)) || plan.exemptProtocols.includes(protocol);
  // Screens are what an account buys: only viewer sessions count against maxSessions.
  const counted = kind === 'viewer' && claims.account !== null && !exempt;
  const maxSessions = account?.maxSessions ?? plan.maxSessions;
  let expiresAt = claims.expiresAt;
  if (plan.maxDurationSeconds > 0) {
    const end = now + plan.maxDurationSeconds * 1000;
    expiresAt = expiresAt === null ? end : Math.min(expiresAt, end);
  }
  return {
    plan,
    account,
    counted,
    expiresAt,
    limits: {
      account: counted ? claims.account : null,
      maxSessions,
      onLimit: plan.onLimit,
      streamMaxViewers: kind === 'viewer' ? streamViewerCap(streams, stream) : 0,
    },
  };
}

/** The viewer cap of a stream: an exact entry wins over the longest matching `prefix*` entry. */
export function streamViewerCap(streams: Config['streams'], stream: string): number {
  const exact = streams[stream];
  if (exact) return exact.maxViewers;
  let best = -1;
  let cap = 0;
  for (const [pattern, rule] of Object.entries(streams)) {
    if (pattern.endsWith('*') && streamMatches(pattern, stream) && pattern.length > best) {
      best = pattern.length;
      cap = rule.maxViewers;
    }
  }
  return cap;
}
