/**
 * The admission pipeline (SPEC §3): every publish/play attempt from every protocol comes here as one
 * protocol-neutral AdmissionRequest. In order: denied memory → credentials → backend login (optional seam)
 * → rules → one atomic store operation (limit check + durable insert) → answer.
 */
import type { Credentials } from '../auth/credentials.js';
import type { Config } from '../config/schema.js';
import { REMEMBERED_DENIALS, UsherError, type ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Catalog } from './catalog.js';
import { uuidv7 } from './ids.js';
import { extractToken, kindOf, modeOf, sessionKey, streamMatches, validStreamName } from './identity.js';
import type { Store } from '../store/store.js';
import type { Registry } from './registry.js';
import { applyPlan, checkRights } from './rules.js';
import type { AdmissionRequest, Claims, Decision, Kind, SessionRecord } from './types.js';

/**
 * The seam where the site's login URL plugs in (issue "Backend notifications"): it may refine the claims
 * (account, role, …) or refuse with E_BACKEND_DENIED / E_BACKEND_UNAVAILABLE.
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
  catalog: Catalog;
  store: Store;
  log: Logger;
  backend?: BackendLogin;
}

export interface AdmissionCounters {
  allowed: number;
  joined: number;
  denied: Partial<Record<ErrorCode, number>>;
}

export class AdmissionPipeline {
  readonly counters: AdmissionCounters = { allowed: 0, joined: 0, denied: {} };

  constructor(private readonly d: PipelineDeps) {}

  async admit(req: AdmissionRequest): Promise<Decision> {
    const { config, registry } = this.d;
    const now = registry.now();
    const kind = kindOf(req);
    if (!validStreamName(req.stream)) return this.refuse(kind, new UsherError('E_VALIDATION', 'stream name is empty or not valid', 'stream'));
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
      return this.deny(base(undefined), key, e);
    }

    // 3. backend login
    if (this.d.backend) {
      try {
        const extra = await this.d.backend.login(req, claims, id);
        if (extra) claims = { ...claims, ...extra };
      } catch (e) {
        return this.deny(base(claims), key, e);
      }
    }

    // 4. rules
    const rights = checkRights(req.action, req.stream, claims);
    if (rights) return this.deny(base(claims), key, rights);
    const applied = applyPlan(this.d.catalog, config.streams, claims, kind, req.stream, req.protocol, now);
    if (applied instanceof UsherError) return this.deny(base(claims), key, applied);

    const session = { ...base(claims), plan: applied.plan.name, counted: applied.counted, expiresAt: applied.expiresAt };
    if (!key) {
      // unspecifiedMode 0 (or any mode 0): allowed, not tracked, not counted
      this.counters.allowed++;
      return { allow: true, kind, expiresAt: applied.expiresAt, account: claims.account };
    }

    // 5. record: limit check + durable insert, one atomic store operation
    const conn = req.clientId ? { server: req.server, clientId: req.clientId, protocol: req.protocol } : null;
    const r = await registry.admit({ session, conn, limits: applied.limits });
    if (r.outcome === 'limit') {
      const err = r.scope === 'stream'
        ? new UsherError('E_STREAM_FULL', `stream "${req.stream}" has reached its viewer cap`)
        : new UsherError('E_LIMIT_REACHED', `limit reached: account "${claims.account}" already has ${r.active.length} active session(s) (plan ${applied.plan.name} allows ${applied.limits.maxSessions})`);
      return this.deny(session, key, err);
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
    return { allow: false, kind, code: e.code, reason: e.message };
  }

  private async deny(rec: SessionRecord, key: string | undefined, e: unknown): Promise<Decision> {
    const err = e instanceof UsherError ? e : new UsherError('E_INTERNAL', 'admission failed', undefined, { cause: e });
    if (!(e instanceof UsherError)) this.d.log.error({ err: e }, 'admission failed');
    this.count(err.code);
    // A credentials challenge is not a refusal: RTSP and MediaMTX clients always ask once without credentials.
    if (key && err.code !== 'E_CREDENTIALS_REQUIRED') {
      const denied: SessionRecord = { ...rec, status: 'denied', reason: err.code, endedAt: rec.startedAt };
      // Without a token the key is just stream + IP (Digest, user-only): remembering it would lock out everyone
      // behind that address for the right password too.
      const remember = REMEMBERED_DENIALS.has(err.code) && rec.token !== null;
      await this.d.registry.deny(denied, remember, err.message).catch((x: unknown) => this.d.log.error({ err: x }, 'could not record denial'));
    }
    return {
      allow: false,
      kind: rec.kind,
      code: err.code,
      reason: err.message,
      askCredentials: err.code === 'E_CREDENTIALS_REQUIRED',
    };
  }

  private count(code: ErrorCode): void {
    this.counters.denied[code] = (this.counters.denied[code] ?? 0) + 1;
  }

  /**
   * Invalidation (SPEC §2): forget cached admission results for a stream (or all) and re-admit every live
   * session under today's rules; the ones that now fail are killed with the reason.
   */
  async invalidate(stream?: string): Promise<{ checked: number; killed: Array<{ id: string; code: ErrorCode }> }> {
    const { registry, config } = this.d;
    this.d.backend?.forget(stream);
    const now = registry.now();
    const rows = (await this.d.store.listLive())
      .map((r) => r.session)
      .filter((r) => r.status === 'active' && (stream === undefined || streamMatches(stream, r.stream)));
    const perAccount = new Map<string, number>();
    const killed: Array<{ id: string; code: ErrorCode }> = [];
    for (const s of rows) {
      const failure = await this.recheck(s, now, perAccount, config);
      if (failure) killed.push({ id: s.id, code: failure.code });
    }
    // kicks go to several servers; a slow one must not hold up the others
    await Promise.all(killed.map((k) => registry.kill(k.id, `invalidated: ${k.code}`)));
    return { checked: rows.length, killed };
  }

  private async recheck(s: SessionRecord, now: number, perAccount: Map<string, number>, config: Config): Promise<UsherError | undefined> {
    const action = s.kind === 'input' ? 'publish' : 'play';
    let claims: Claims;
    if (!s.token && s.authMethod === 'streamKey') {
      // verified by RTSP Digest: the key itself was never sent; it is still good while the stream still has one
      if (!Object.prototype.hasOwnProperty.call(config.auth.streamKeys, s.stream)) return new UsherError('E_TOKEN_INVALID', 'stream key removed');
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
    const applied = applyPlan(this.d.catalog, config.streams, claims, s.kind, s.stream, s.protocol, now);
    if (applied instanceof UsherError) return applied;
    if (s.counted && applied.limits.account !== null && applied.limits.maxSessions > 0) {
      const n = (perAccount.get(applied.limits.account) ?? 0) + 1;
      perAccount.set(applied.limits.account, n);
      if (n > applied.limits.maxSessions) return new UsherError('E_LIMIT_REACHED', 'over the plan limit after invalidation');
    }
    return undefined;
  }
}
