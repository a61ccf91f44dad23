/**
 * The admission pipeline (SPEC §3): every publish/play attempt from every protocol comes here as one
 * protocol-neutral AdmissionRequest, and every policy decision is taken here, once — never in an adapter or the
 * RTSP server. In order: stream name → denied memory → credentials → backend login (optional seam, may only narrow)
 * → rules (rights, plan) → one atomic store operation (busy path, stream cap, account screens + durable insert) →
 * answer, with "ask for credentials" (401 vs 403) decided from what the request presented.
 */
import type { Credentials } from '../auth/credentials.js';
import type { Config } from '../config/schema.js';
import { REMEMBERED_DENIALS, UsherError, type ErrorCode } from '../errors.js';
import { RateLimitedLog, type Logger } from '../log.js';
import type { Store } from '../store/store.js';
import type { AccountsAndPlans } from './accounts-and-plans.js';
import { bounded, DenialBudget, MAX_CONNECTIONS_PER_SESSION, MAX_TOKEN } from './bounds.js';
import { uuidv7 } from './ids.js';
import { extractToken, kindOf, modeOf, sessionKey, streamMatches, validStreamName } from './identity.js';
import type { Registry } from './registry.js';
import { applyPlan, busyPolicy, checkRights, narrowClaims, type Applied } from './rules.js';
import { API_SERVER, type AdmissionRequest, type Claims, type ConnRef, type Decision, type Kind, type SessionRecord } from './types.js';

/**
 * The seam where the site's login URL plugs in (issue "Backend notifications"): it may refine the claims
 * (account, role, …) or refuse with E_BACKEND_DENIED / E_BACKEND_UNAVAILABLE. What it answers can only narrow
 * what the credential granted (live555's rule for access hooks): see rules.ts narrowClaims.
 */
export interface BackendLogin {
  login(req: AdmissionRequest, claims: Claims, sessionId: string): Promise<Partial<Claims> | undefined>;
  /** Forget cached answers (invalidation). */
  forget(stream?: string): void;
}

export interface PipelineDeps {
  config: Config;
  registry: Registry;
  credentials: Credentials;
  accounts: AccountsAndPlans;
  store: Store;
  log: Logger;
  backend?: BackendLogin;
  /** Waits before a refused credential is answered (tests pass a no-op); default: a timer. */
  delay?: (ms: number) => Promise<void>;
  /** Random in [0, 1) for the failure delay; default Math.random. */
  random?: () => number;
}

export interface AdmissionCounters {
  allowed: number;
  joined: number;
  denied: Partial<Record<ErrorCode, number>>;
}

/** Codes of a credential that was presented and could not be verified. */
const CREDENTIAL_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_TOKEN_INVALID', 'E_TOKEN_EXPIRED']);
/** Refused credentials answered after a random delay of up to auth.failureDelayMs: guessing tokens, or streams a token opens, gets slow. */
const DELAYED: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['E_TOKEN_INVALID', 'E_TOKEN_EXPIRED', 'E_STREAM_FORBIDDEN']);

export class AdmissionPipeline {
  readonly counters: AdmissionCounters = { allowed: 0, joined: 0, denied: {} };
  private readonly delay: (ms: number) => Promise<void>;
  private readonly random: () => number;
  /** Store failures repeat per admission (a full disk): logged under a budget, not one stack trace each. */
  private readonly failures: RateLimitedLog;
  private readonly budget = new DenialBudget();

  constructor(private readonly d: PipelineDeps) {
    this.delay = d.delay ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = d.random ?? Math.random;
    this.failures = new RateLimitedLog(d.log, { max: 10, intervalMs: 10_000, now: d.registry.now });
  }

  async admit(given: AdmissionRequest): Promise<Decision> {
    const { config, registry } = this.d;
    const now = registry.now();
    const req = bounded(given);
    const kind = kindOf(req);
    if (!validStreamName(req.stream)) return this.refuse(kind, new UsherError('E_VALIDATION', 'stream name is empty or not valid', 'stream'));
    if ((req.token?.length ?? 0) > MAX_TOKEN || (req.password?.length ?? 0) > MAX_TOKEN || (req.query?.length ?? 0) > 4 * MAX_TOKEN) {
      return this.refuse(kind, new UsherError('E_TOKEN_INVALID', 'credential too long'));
    }
    // A password carries the token where a client can only send user:password (RTSP Basic, MediaMTX): it is part
    // of the session key and is kept for re-admission, exactly like a token in the URL.
    const token = extractToken(req, config.sessions.tokenParam) || req.password || '';
    const key = sessionKey(kind, modeOf(kind, config.sessions), { stream: req.stream, ip: req.ip, token, protocol: req.protocol });

    // 1. denied memory
    if (key) {
      const d = registry.isDenied(key, now);
      if (d) return this.refuse(kind, new UsherError('E_DENIED_RECENTLY', `denied recently (${d.reason}); try again later`));
    }

    const id = uuidv7(now);
    const base = (claims: Claims | undefined): SessionRecord => ({
      id, key: key ?? '', kind, status: 'active', reason: null, stream: req.stream,
      account: claims?.account ?? null, plan: claims?.plan ?? null, device: claims?.device ?? null, role: claims?.role ?? null,
      ip: req.ip, protocol: req.protocol, server: req.server, clientId: req.clientId ?? null, userAgent: req.userAgent ?? null,
      token: token || null, authMethod: claims?.method ?? null, counted: false,
      startedAt: now, endedAt: null, lastSeen: now, expiresAt: null, bytesIn: 0, bytesOut: 0,
    });

    // 2. credentials
    let claims: Claims;
    try {
      const c = this.d.credentials.verify(req, token, now);
      claims = c instanceof Promise ? await c : c;
    } catch (e) {
      return this.deny(base(undefined), key, e, req);
    }

    // 3. backend login: may only narrow what the credential granted
    if (this.d.backend) {
      try {
        const extra = await this.d.backend.login(req, claims, id);
        if (extra) claims = narrowClaims(claims, extra);
      } catch (e) {
        return this.deny(base(claims), key, e, req, claims);
      }
    }

    // 4. rules
    const rights = checkRights(req.action, req.stream, claims);
    if (rights) return this.deny(base(claims), key, rights, req, claims);
    const applied = applyPlan(this.d.accounts, config.streams, claims, kind, req.stream, req.protocol, now);
    if (applied instanceof UsherError) return this.deny(base(claims), key, applied, req, claims);
    const limits = { ...applied.limits, busy: busyPolicy(config, req.server, kind), maxConnections: MAX_CONNECTIONS_PER_SESSION };

    const session = base(claims);
    session.plan = applied.plan.name;
    session.counted = applied.counted;
    session.expiresAt = applied.expiresAt;
    if (!key) {
      // unspecifiedMode 0 (or any mode 0): allowed, not tracked, not counted
      this.counters.allowed++;
      return { allow: true, kind, expiresAt: applied.expiresAt, account: claims.account };
    }

    // 5. record: busy path, caps and limits + durable insert, one atomic store operation
    // made with the registry's instance id at once: the registry would otherwise copy it to stamp it
    const conn: ConnRef | null = req.clientId ? { server: req.server, clientId: req.clientId, protocol: req.protocol } : null;
    if (conn !== null && registry.instance !== undefined) conn.instance = registry.instance;
    let r: Awaited<ReturnType<Registry['admit']>>;
    try {
      r = await registry.admit({ session, conn, limits });
    } catch (e) {
      this.failures.error({ err: e, store: this.d.store.health().error ?? undefined }, 'admission could not be recorded');
      return this.refuse(kind, new UsherError('E_UNAVAILABLE', 'the session store cannot record admissions now'));
    }
    if (r.outcome === 'denied') return this.refuse(kind, new UsherError('E_DENIED_RECENTLY', `denied recently (${r.denial.reason}); try again later`));
    if (r.outcome === 'limit') {
      const err = r.scope === 'stream'
        ? new UsherError('E_STREAM_FULL', `stream "${req.stream}" has reached its viewer cap`)
        : r.scope === 'busy'
          ? new UsherError('E_STREAM_BUSY', `someone is already publishing "${req.stream}"`)
          : r.scope === 'connections'
            ? new UsherError('E_TOO_MANY_CONNECTIONS', `this session already holds ${MAX_CONNECTIONS_PER_SESSION} connections`)
          : new UsherError('E_LIMIT_REACHED', `limit reached: account "${claims.account}" already uses ${applied.limits.maxSessions} screen(s) (plan ${applied.plan.name})`);
      return this.deny(session, key, err, req, claims);
    }
    if (r.outcome === 'joined') this.counters.joined++;
    this.counters.allowed++;
    return {
      allow: true,
      kind,
      sessionId: r.session.id,
      expiresAt: r.session.expiresAt,
      joined: r.outcome === 'joined',
      account: r.session.account,
    };
  }

  /** A refusal that is answered but not recorded (bad input, denied memory: the attempt was already recorded). */
  private refuse(kind: Kind, e: UsherError): Decision {
    this.count(e.code);
    const d: Decision = { allow: false, kind, code: e.code, reason: e.message };
    if (e.field !== undefined) d.field = e.field;
    return d;
  }

  /**
   * A refusal after the request was looked at. Recorded as a denied session when a verified credential names who
   * asked; otherwise counted per (source, code) only (SPEC §3 bounds: a flood of forged tokens grows a counter).
   * Remembered in denied memory for the codes that say "this key will not get in" (errors.ts REMEMBERED_DENIALS).
   */
  private async deny(rec: SessionRecord, key: string | undefined, e: unknown, req: AdmissionRequest, claims?: Claims): Promise<Decision> {
    const err = e instanceof UsherError ? e : new UsherError('E_INTERNAL', 'admission failed', undefined, { cause: e });
    if (!(e instanceof UsherError)) this.d.log.error({ err: e }, 'admission failed');
    this.count(err.code);
    // A credentials challenge is not a refusal: RTSP and MediaMTX clients always ask once without credentials.
    if (key && err.code !== 'E_CREDENTIALS_REQUIRED') {
      // a verified credential's refusals are recorded in full up to a budget a minute, then only counted
      const named = claims !== undefined && claims.method !== 'anonymous' && this.budget.take(rec.token ?? `${rec.account}\0${rec.ip}`, rec.startedAt);
      // Without a token the key is just stream + IP (Digest, user-only): remembering it would lock out everyone
      // behind that address for the right password too.
      const remember = rec.token !== null && (REMEMBERED_DENIALS.has(err.code) || (!named && CREDENTIAL_FAILURES.has(err.code)));
      const write = named
        ? this.d.registry.deny({ ...rec, status: 'denied', reason: err.code, endedAt: rec.startedAt }, remember, err.message)
        : this.d.registry.countDenial(req.server === API_SERVER ? req.ip : `${req.server}/${req.ip}`, err.code, remember ? rec : undefined, err.message);
      await write.catch((x: unknown) => this.failures.error({ err: x }, 'could not record denial'));
    }
    // MediaMTX's rule, decided once: ask for credentials when the request presented none at all (the credentials
    // step says so: E_CREDENTIALS_REQUIRED), or presented ones a player can prompt for again (user/password, Digest)
    // and those failed. A token in the URL that fails is simply refused: prompting would not change the URL.
    // interactive: user/password (RTSP Basic, MediaMTX, RTMP) or an RTSP Digest answer — what a player can prompt for
    const interactive = req.user !== undefined || req.password !== undefined || req.digest !== undefined;
    const askCredentials = err.code === 'E_CREDENTIALS_REQUIRED'
      || (interactive && CREDENTIAL_FAILURES.has(err.code) && !this.tokenInUrl(req));
    if (DELAYED.has(err.code) && this.d.config.auth.failureDelayMs > 0) {
      // a refused credential is answered after a random delay (MediaMTX's pause): guessing gets slow, timing says nothing
      await this.delay(Math.floor(this.random() * this.d.config.auth.failureDelayMs));
    }
    const d: Decision = { allow: false, kind: rec.kind, code: err.code, reason: err.message, askCredentials };
    if (askCredentials) d.digestPossible = this.d.credentials.digestPossible(req.stream);
    if (err.field !== undefined) d.field = err.field;
    return d;
  }

  /** A token came with the URL (its query or a cookie), not as a password. */
  private tokenInUrl(req: AdmissionRequest): boolean {
    return extractToken({ query: req.query, cookie: req.cookie }, this.d.config.sessions.tokenParam) !== '';
  }

  private count(code: ErrorCode): void {
    this.counters.denied[code] = (this.counters.denied[code] ?? 0) + 1;
  }

  /**
   * Invalidation (SPEC §2): forget cached admission results for a stream (or all) and re-admit every live
   * session under today's rules; the ones that now fail are killed with the reason. Walks the live sessions a page
   * at a time (scanLive), so it never holds the event loop for long however many there are. Limits are counted as
   * admission counts them: screens of sessions that hold a slot (a lingering session holds none); when an account is
   * over its plan, `deny` keeps the screens that came first (the later ones would have been refused), `killOldest`
   * keeps the newest. With a stream, only that stream's sessions are counted and judged.
   */
  async invalidate(stream?: string): Promise<{ checked: number; killed: Array<{ id: string; code: ErrorCode }> }> {
    const { registry, config } = this.d;
    this.d.backend?.forget(stream);
    const now = registry.now();
    const accounts = new Map<string, { max: number; onLimit: 'deny' | 'killOldest'; screens: Map<string, { first: string; ids: string[] }> }>();
    const killed: Array<{ id: string; code: ErrorCode }> = [];
    let checked = 0;
    for (let after = ''; ;) {
      const page = await this.d.store.scanLive(after, 1000);
      if (page.length === 0) break;
      after = page[page.length - 1].session.id;
      for (const { session: s, holding } of page) {
        if (s.status !== 'active' || (stream !== undefined && !streamMatches(stream, s.stream))) continue;
        checked++;
        const r = await this.recheck(s, now, config);
        if (r instanceof UsherError) {
          killed.push({ id: s.id, code: r.code });
          continue;
        }
        const { account, maxSessions, onLimit } = r.limits;
        if (!holding || !s.counted || account === null || maxSessions <= 0) continue;
        let a = accounts.get(account);
        if (!a) accounts.set(account, (a = { max: maxSessions, onLimit, screens: new Map() }));
        // screens as admission counts them: sessions on one device are one screen; ids are time-ordered
        const screen = s.device ? `d:${s.device}` : `k:${s.key}`;
        const sc = a.screens.get(screen);
        if (sc) sc.ids.push(s.id);
        else a.screens.set(screen, { first: s.id, ids: [s.id] });
      }
    }
    for (const a of accounts.values()) {
      const over = a.screens.size - a.max;
      if (over <= 0) continue;
      const byAge = [...a.screens.values()].sort((x, y) => (x.first < y.first ? -1 : 1));
      const gone = a.onLimit === 'killOldest' ? byAge.slice(0, over) : byAge.slice(-over);
      for (const sc of gone) for (const id of sc.ids) killed.push({ id, code: 'E_LIMIT_REACHED' });
    }
    // kicks go to several servers; a slow one must not hold up the others
    await Promise.all(killed.map((k) => registry.kill(k.id, `invalidated: ${k.code}`)));
    return { checked, killed };
  }

  /** Today's rules for a live session: its credential again, its rights, its plan (the limits are counted by the caller). */
  private async recheck(s: SessionRecord, now: number, config: Config): Promise<UsherError | Applied> {
    const action = s.kind === 'input' ? 'publish' : 'play';
    let claims: Claims;
    if (!s.token && s.authMethod === 'streamKey') {
      // verified by RTSP Digest: the key itself was never sent; it is still good while the stream still has one
      if (!this.d.credentials.digestPossible(s.stream)) return new UsherError('E_TOKEN_INVALID', 'stream key removed');
      claims = { account: s.account, plan: s.plan, device: s.device, role: s.role, expiresAt: null, actions: new Set(['play', 'publish']), streams: [s.stream], method: 'streamKey' };
    } else {
      try {
        claims = await this.d.credentials.verify(
          // a server's relay leg was admitted as one (no client credential) and is re-checked as one
          { server: s.server, protocol: s.protocol, action, stream: s.stream, ip: s.ip, token: s.token ?? undefined, kind: s.kind, relay: s.authMethod === 'relay' },
          s.token ?? '',
          now,
        );
      } catch (e) {
        return e instanceof UsherError ? e : new UsherError('E_INTERNAL');
      }
    }
    const rights = checkRights(action, s.stream, claims);
    if (rights) return rights;
    return applyPlan(this.d.accounts, config.streams, claims, s.kind, s.stream, s.protocol, now);
  }
}
