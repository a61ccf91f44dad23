/**
 * Usher's signed-URL token: `<payload>.<signature>`, both base64url; the signature is HMAC-SHA256 over the
 * payload text, which carries stream, action, expiry, optionally the client IP, and the account claims.
 * Two dot-separated parts, so it never looks like a JWT (three parts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { UsherError } from '../errors.js';
import type { Action } from '../core/types.js';
import { MAX_DURATION_SECONDS, MAX_DURATION_TEXT } from '../config/duration.js';

export interface SignedPayload {
  /** Stream name or `prefix*`. */
  s: string;
  /** Action granted: play, publish, or `*` for both. */
  a: Action | '*';
  /** Expiry, unix seconds. */
  e: number;
  sub?: string;
  plan?: string;
  dev?: string;
  role?: string;
  /** When set, only this client IP may use the token. */
  ip?: string;
}

export interface SignOptions {
  stream: string;
  account?: string;
  plan?: string;
  device?: string;
  role?: string;
  action?: Action | '*';
  ip?: string;
  /** Lifetime in seconds from `now`. */
  ttlSeconds: number;
  now?: number;
}

const CONTEXT = 'usher-signed-v1.';

function mac(secret: string, payloadB64: string): Buffer {
  return createHmac('sha256', secret).update(CONTEXT).update(payloadB64).digest();
}

export function signToken(secret: string, o: SignOptions): string {
  if (!secret) throw new UsherError('E_CONFIG_INVALID', 'auth.signedUrls.secret is empty', 'auth.signedUrls.secret');
  const now = o.now ?? Date.now();
  if (!(o.ttlSeconds > 0 && o.ttlSeconds <= MAX_DURATION_SECONDS)) {
    throw new UsherError('E_VALIDATION', `ttl must be more than 0 and at most ${MAX_DURATION_TEXT}`, 'ttl');
  }
  const p: SignedPayload = { s: o.stream, a: o.action ?? 'play', e: Math.floor(now / 1000) + Math.max(1, Math.round(o.ttlSeconds)) };
  if (o.account) p.sub = o.account;
  if (o.plan) p.plan = o.plan;
  if (o.device) p.dev = o.device;
  if (o.role) p.role = o.role;
  if (o.ip) p.ip = o.ip;
  const b64 = Buffer.from(JSON.stringify(p)).toString('base64url');
  return `${b64}.${mac(secret, b64).toString('base64url')}`;
}

export function looksSigned(token: string): boolean {
  const dot = token.indexOf('.');
  return dot > 0 && dot === token.lastIndexOf('.') && dot < token.length - 1;
}

/** Verify signature (constant time), expiry and IP binding. Stream/action scope is checked by the rules. */
export function verifySigned(secret: string, token: string, ip: string, now: number): SignedPayload {
  if (!secret) throw new UsherError('E_TOKEN_INVALID', 'signed tokens are not enabled');
  const dot = token.indexOf('.');
  const b64 = token.slice(0, dot);
  // Compare the signature text itself: decoding first would accept altered spellings of the same bytes (trailing
  // characters, spare bits), and every spelling would be a new session key that denied memory does not know.
  const given = Buffer.from(token.slice(dot + 1), 'latin1');
  const want = Buffer.from(mac(secret, b64).toString('base64url'), 'latin1');
  if (given.length !== want.length || !timingSafeEqual(given, want)) {
    throw new UsherError('E_TOKEN_INVALID', 'token signature does not match');
  }
  let p: SignedPayload;
  try {
    p = JSON.parse(Buffer.from(b64, 'base64url').toString('utf8')) as SignedPayload;
  } catch {
    throw new UsherError('E_TOKEN_INVALID', 'token payload is not valid');
  }
  if (typeof p !== 'object' || p === null || typeof p.s !== 'string' || typeof p.e !== 'number' || !['play', 'publish', '*'].includes(p.a)) {
    throw new UsherError('E_TOKEN_INVALID', 'token payload is not valid');
  }
  if (p.e * 1000 <= now) throw new UsherError('E_TOKEN_EXPIRED', 'token has expired');
  if (p.e * 1000 - now > MAX_DURATION_SECONDS * 1000) throw new UsherError('E_TOKEN_INVALID', 'token expiry is too far in the future');
  if (p.ip !== undefined && p.ip !== ip) throw new UsherError('E_TOKEN_INVALID', 'token is bound to another IP address');
  return p;
}
