/**
 * The credentials step of admission (SPEC §3.2): a signed URL, a JWT, or a static per-stream key.
 * It answers who is asking and what the credential grants; the rules decide whether that is enough.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Config } from '../config/schema.js';
import { UsherError } from '../errors.js';
import { MAX_DURATION_SECONDS, MAX_DURATION_TEXT } from '../config/duration.js';
import type { Action, AdmissionRequest, Claims } from '../core/types.js';
import { createJwtVerifier, looksJwt, type JwtVerifier } from './jwt.js';
import { looksSigned, verifySigned } from './signed-url.js';

const BOTH: ReadonlySet<Action> = new Set<Action>(['play', 'publish']);
const PLAY: ReadonlySet<Action> = new Set<Action>(['play']);
const PUBLISH: ReadonlySet<Action> = new Set<Action>(['publish']);
const PUBLISHER_ROLES = new Set(['publisher', 'broadcaster', 'admin']);

/** Equal-length digests of both sides are compared, so neither where they differ nor the secret's length shows. */
export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

export class Credentials {
  private readonly jwt: JwtVerifier | undefined;

  constructor(private readonly auth: Config['auth']) {
    this.jwt = createJwtVerifier(auth.jwt);
  }

  /**
   * Verify what the request presents. `token` is the token already extracted (field, query, cookie).
   * Throws (or rejects) UsherError with E_CREDENTIALS_REQUIRED, E_TOKEN_INVALID or E_TOKEN_EXPIRED.
   * Synchronous unless a JWT must be checked: the signed-URL hot path costs no extra promise.
   */
  verify(req: AdmissionRequest, token: string, now: number): Claims | Promise<Claims> {
    // A server's own relay leg carries no client credential: what it relays was admitted on that server already.
    if (req.relay === true && req.kind === 'output') return relayClaims(req);
    // A password can carry the token (RTSP Basic, MediaMTX user/pass, RTMP ?password=…).
    const presented = token || req.password || '';
    if (presented) {
      const key = this.streamKey(req.stream);
      if (key !== undefined && constantTimeEqual(presented, key)) return streamKeyClaims(req);
      if (looksJwt(presented)) {
        if (!this.jwt) throw new UsherError('E_TOKEN_INVALID', 'JWT tokens are not enabled');
        return this.jwt.verify(presented, now).then((p) => jwtClaims(p, now));
      }
      if (looksSigned(presented)) {
        const p = verifySigned(this.auth.signedUrls.secret, presented, req.ip, now);
        return {
          account: p.sub ?? null,
          plan: p.plan ?? null,
          device: p.dev ?? null,
          role: p.role ?? null,
          expiresAt: p.e * 1000,
          actions: p.a === '*' ? BOTH : p.a === 'publish' ? PUBLISH : PLAY,
          streams: [p.s],
          method: 'signed',
        };
      }
      if (token || key !== undefined) throw new UsherError('E_TOKEN_INVALID', 'token is not recognised');
    }
    if (req.digest) {
      const key = this.streamKey(req.stream);
      if (key !== undefined && req.digest(key)) return streamKeyClaims(req);
    }
    if (req.action === 'play' && this.auth.anonymousPlay) {
      return { account: null, plan: null, device: null, role: null, expiresAt: null, actions: PLAY, streams: null, method: 'anonymous' };
    }
    if (req.digest || req.user) throw new UsherError('E_TOKEN_INVALID', 'wrong user name or password');
    throw new UsherError('E_CREDENTIALS_REQUIRED', 'a token is required');
  }

  /** RTSP Digest can succeed for this stream: it has a static key (a signed token cannot be checked through a digest). */
  digestPossible(stream: string): boolean {
    return this.streamKey(stream) !== undefined;
  }

  private streamKey(stream: string): string | undefined {
    const keys = this.auth.streamKeys;
    return Object.prototype.hasOwnProperty.call(keys, stream) ? keys[stream] : undefined;
  }
}

/** A relay leg may do what it does (play the source, or publish what it pulls) on its one stream, for no account. */
function relayClaims(req: AdmissionRequest): Claims {
  return {
    account: null,
    plan: null,
    device: null,
    role: 'relay',
    expiresAt: null,
    actions: req.action === 'publish' ? PUBLISH : PLAY,
    streams: [req.stream],
    method: 'relay',
  };
}

function streamKeyClaims(req: AdmissionRequest): Claims {
  return {
    // the user name beside a stream key is whatever the client typed: it does not name an account
    account: null,
    plan: null,
    device: null,
    role: 'publisher',
    expiresAt: null,
    actions: BOTH,
    streams: [req.stream],
    method: 'streamKey',
  };
}

function str(v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null;
}

/**
 * A JWT must name its account (`sub`) and carry an expiry (`exp`, at most MAX_DURATION_SECONDS ahead): SPEC §11's
 * claims. Without `sub` nothing could count its screens; without `exp` it would never end.
 */
function jwtClaims(p: Record<string, unknown>, now: number): Claims {
  if (str(p.sub) === null) throw new UsherError('E_TOKEN_INVALID', 'JWT has no sub claim (the account)');
  if (typeof p.exp !== 'number' || !Number.isFinite(p.exp)) throw new UsherError('E_TOKEN_INVALID', 'JWT has no exp claim');
  if (p.exp * 1000 - now > MAX_DURATION_SECONDS * 1000) throw new UsherError('E_TOKEN_INVALID', `JWT exp is more than ${MAX_DURATION_TEXT} ahead`);
  const role = str(p.role);
  let actions: ReadonlySet<Action> = role && PUBLISHER_ROLES.has(role) ? BOTH : PLAY;
  const a = p.actions ?? p.action;
  if (a !== undefined) {
    const list = (Array.isArray(a) ? a : [a]).filter((x): x is Action | '*' => x === 'play' || x === 'publish' || x === '*');
    actions = list.includes('*') ? BOTH : new Set(list.filter((x): x is Action => x !== '*'));
  }
  const s = p.streams ?? p.stream;
  const streams = s === undefined ? null : (Array.isArray(s) ? s : [s]).filter((x): x is string => typeof x === 'string');
  return {
    account: str(p.sub),
    plan: str(p.plan),
    device: str(p.device),
    role,
    expiresAt: typeof p.exp === 'number' ? p.exp * 1000 : null,
    actions,
    streams,
    method: 'jwt',
  };
}
