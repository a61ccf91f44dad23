/**
 * Business rules (SPEC §3.4), as pure functions of the request, the verified claims and the accounts and plans.
 * The counting itself happens atomically in the store; these functions only say what to count against.
 */
import type { Config } from '../config/schema.js';
import { UsherError } from '../errors.js';
import type { AccountsAndPlans } from './accounts-and-plans.js';
import { streamMatches } from './identity.js';
import type { AdmitLimits } from '../store/store.js';
import { BUILTIN_SERVER, type AccountRecord, type Action, type Claims, type Kind, type PlanRecord } from './types.js';

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
  limits: Omit<AdmitLimits, 'busy'>;
  expiresAt: number | null;
}

/** Which plan applies, whether this session counts, the limits to check atomically, and its lifetime. */
export function applyPlan(
  accounts: AccountsAndPlans,
  streams: Config['streams'],
  claims: Claims,
  kind: Kind,
  stream: string,
  protocol: string,
  now: number,
): Applied | UsherError {
  const { plan, account } = accounts.resolve(claims.account, claims.plan);
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

/**
 * What a second publisher on a busy path gets (SPEC §5): the built-in RTSP server follows `rtsp.onBusyPath`;
 * external servers decide for themselves (nginx-rtmp refuses a second publisher on its own, and a relay pushing
 * the same name to another server is a legitimate second input there), so no rule applies to them.
 */
export function busyPolicy(config: Pick<Config, 'rtsp'>, server: string, kind: Kind): AdmitLimits['busy'] {
  if (kind !== 'input' || server !== BUILTIN_SERVER) return null;
  return config.rtsp.onBusyPath;
}

/**
 * What a backend login answer may do to the claims the credential gave: narrow them, never widen them (live555's
 * rule for access hooks). It fills what the credential left open (account, plan, device, role), can shorten the
 * lifetime and remove actions or streams, but never extends, adds or replaces.
 */
export function narrowClaims(granted: Claims, backend: Partial<Claims>): Claims {
  const expiresAt = backend.expiresAt === undefined || backend.expiresAt === null
    ? granted.expiresAt
    : granted.expiresAt === null ? backend.expiresAt : Math.min(granted.expiresAt, backend.expiresAt);
  const actions = backend.actions === undefined ? granted.actions : new Set([...granted.actions].filter((a) => backend.actions!.has(a)));
  let streams = granted.streams;
  if (backend.streams !== undefined && backend.streams !== null) {
    const allowed = backend.streams;
    streams = granted.streams === null ? [...allowed] : granted.streams.filter((p) => allowed.some((q) => patternWithin(p, q)));
  }
  return {
    account: granted.account ?? backend.account ?? null,
    plan: granted.plan ?? backend.plan ?? null,
    device: granted.device ?? backend.device ?? null,
    role: granted.role ?? backend.role ?? null,
    expiresAt,
    actions,
    streams,
    method: granted.method,
  };
}

/** Every stream `inner` matches is matched by `outer` too (patterns as in streamMatches). */
function patternWithin(inner: string, outer: string): boolean {
  if (outer === '*' || inner === outer) return true;
  if (!outer.endsWith('*')) return false;
  const prefix = outer.slice(0, -1);
  return inner.startsWith(prefix);
}

/** Stream tables (frozen config) known to be empty. */
const noCaps = new WeakSet<object>();

/** The viewer cap of a stream: an exact entry wins over the longest matching `prefix*` entry. */
export function streamViewerCap(streams: Config['streams'], stream: string): number {
  // most setups cap no stream: no walk over the table per admission then
  if (noCaps.has(streams)) return 0;
  if (Object.keys(streams).length === 0) {
    noCaps.add(streams);
    return 0;
  }
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
