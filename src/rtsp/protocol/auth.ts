/**
 * RTSP authentication headers (RTSP reuses HTTP's: RFC 7617 Basic, RFC 2617 / RFC 2069 Digest). Parsing,
 * checking a Digest response against a known password, and the WWW-Authenticate challenges. Deciding who may do
 * what is not here: the admission pipeline does that with the user and password these functions extract.
 *
 * ffmpeg and live555 answer a Digest challenge without qop in the RFC 2069 form, MD5(HA1:nonce:HA2); browsers-style
 * clients that saw qop="auth" use MD5(HA1:nonce:nc:cnonce:qop:HA2). Both are checked.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export interface BasicCredentials {
  scheme: 'basic';
  user: string;
  password: string;
}

export interface DigestFields {
  username: string;
  realm: string;
  nonce: string;
  uri: string;
  response: string;
  algorithm?: string;
  qop?: string;
  nc?: string;
  cnonce?: string;
  opaque?: string;
}

export interface DigestCredentials {
  scheme: 'digest';
  fields: DigestFields;
}

export type Credentials = BasicCredentials | DigestCredentials;

/** Parses an Authorization header value; undefined for other schemes or malformed values. */
export function parseAuthorization(value: string): Credentials | undefined {
  const m = /^\s*([A-Za-z]+)\s+([\s\S]*)$/.exec(value);
  if (!m) return undefined;
  const scheme = m[1].toLowerCase();
  if (scheme === 'basic') return parseBasic(m[2].trim());
  if (scheme === 'digest') {
    const fields = parseDigestFields(m[2]);
    return fields ? { scheme: 'digest', fields } : undefined;
  }
  return undefined;
}

function parseBasic(token: string): BasicCredentials | undefined {
  if (token.length > 4096 || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { scheme: 'basic', user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

const DIGEST_KEYS = new Set(['username', 'realm', 'nonce', 'uri', 'response', 'algorithm', 'qop', 'nc', 'cnonce', 'opaque']);

/**
 * Parses the `k=v, k="quoted, with \"escapes\""` list of a Digest header. Unknown keys are skipped; a repeated known
 * key or a missing required one makes the whole header invalid (an ambiguous credential is refused, not guessed).
 */
export function parseDigestFields(params: string): DigestFields | undefined {
  if (params.length > 8192) return undefined;
  const out: Record<string, string> = {};
  let i = 0;
  const n = params.length;
  const skipWs = (): void => {
    while (i < n && (params[i] === ' ' || params[i] === '\t')) i++;
  };
  while (i < n) {
    skipWs();
    if (params[i] === ',') {
      i++;
      continue;
    }
    if (i >= n) break;
    const keyStart = i;
    while (i < n && /[A-Za-z0-9_-]/.test(params[i])) i++;
    const key = params.slice(keyStart, i).toLowerCase();
    if (key === '') return undefined;
    skipWs();
    if (params[i] !== '=') return undefined;
    i++;
    skipWs();
    let value = '';
    if (params[i] === '"') {
      i++;
      let closed = false;
      while (i < n) {
        const c = params[i++];
        if (c === '\\' && i < n) value += params[i++];
        else if (c === '"') {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed) return undefined;
    } else {
      const start = i;
      while (i < n && params[i] !== ',' && params[i] !== ' ' && params[i] !== '\t') i++;
      value = params.slice(start, i);
    }
    skipWs();
    if (i < n && params[i] !== ',') return undefined;
    if (DIGEST_KEYS.has(key)) {
      if (Object.prototype.hasOwnProperty.call(out, key)) return undefined;
      out[key] = value;
    }
  }
  for (const k of ['username', 'realm', 'nonce', 'uri', 'response']) {
    if (out[k] === undefined) return undefined;
  }
  const f: DigestFields = {
    username: out.username,
    realm: out.realm,
    nonce: out.nonce,
    uri: out.uri,
    response: out.response,
  };
  for (const k of ['algorithm', 'qop', 'nc', 'cnonce', 'opaque'] as const) {
    if (out[k] !== undefined) f[k] = out[k];
  }
  return f;
}

export interface DigestExpectations {
  /** The realm the server challenged with; a response for another realm is refused. */
  realm?: string;
  /** The nonce the server issued to this connection; a response to another nonce (replay) is refused. */
  nonce?: string;
}

/**
 * True when the Digest response is right for this password and method: MD5 (or MD5-sess), qop absent (RFC 2069) or
 * 'auth'. Other algorithms and qop=auth-int are refused. The comparison is constant-time. The server should pass the
 * realm and nonce it issued in `expect`; otherwise checking them is the caller's job.
 */
export function verifyDigest(fields: DigestFields, method: string, password: string, expect: DigestExpectations = {}): boolean {
  if (expect.realm !== undefined && fields.realm !== expect.realm) return false;
  if (expect.nonce !== undefined && fields.nonce !== expect.nonce) return false;
  const expected = digestResponse(fields, method, password);
  if (expected === undefined) return false;
  const a = Buffer.from(expected, 'latin1');
  const b = Buffer.from(fields.response.toLowerCase(), 'latin1');
  // timingSafeEqual needs equal lengths; a length difference reveals nothing (an MD5 hex is always 32 characters).
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The response a client with this password would send (lower-case hex), or undefined when the fields ask for
 * something unsupported. Exposed for clients and tests; servers use verifyDigest.
 */
export function digestResponse(fields: Omit<DigestFields, 'response'>, method: string, password: string): string | undefined {
  const algorithm = (fields.algorithm ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5' && algorithm !== 'MD5-SESS') return undefined;
  let ha1 = md5(`${fields.username}:${fields.realm}:${password}`);
  if (algorithm === 'MD5-SESS') {
    if (fields.cnonce === undefined) return undefined;
    ha1 = md5(`${ha1}:${fields.nonce}:${fields.cnonce}`);
  }
  const ha2 = md5(`${method}:${fields.uri}`);
  if (fields.qop === undefined) return md5(`${ha1}:${fields.nonce}:${ha2}`);
  if (fields.qop.toLowerCase() !== 'auth' || fields.nc === undefined || fields.cnonce === undefined) return undefined;
  return md5(`${ha1}:${fields.nonce}:${fields.nc}:${fields.cnonce}:${fields.qop}:${ha2}`);
}

function md5(s: string): string {
  return createHash('md5').update(s, 'utf8').digest('hex');
}

/** `Basic realm="..."`, for a WWW-Authenticate header. */
export function basicChallenge(realm: string): string {
  return `Basic realm=${quote(realm)}`;
}

export interface DigestChallengeOptions {
  /** Offer qop="auth" (off by default: live555 clients ignore it, ffmpeg handles both). */
  qop?: boolean;
  opaque?: string;
  /** The nonce was good but expired: the client may retry with the new one without asking the user. */
  stale?: boolean;
}

/** `Digest realm="...", nonce="..."` (plus the options), for a WWW-Authenticate header. */
export function digestChallenge(realm: string, nonce: string, opts: DigestChallengeOptions = {}): string {
  let s = `Digest realm=${quote(realm)}, nonce=${quote(nonce)}`;
  if (opts.qop) s += ', qop="auth"';
  if (opts.opaque !== undefined) s += `, opaque=${quote(opts.opaque)}`;
  if (opts.stale) s += ', stale=TRUE';
  return s;
}

function quote(s: string): string {
  if (/[\r\n\x00]/.test(s)) throw new TypeError('challenge parameters must be single-line');
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** An unguessable nonce: 128 random bits in hex. Pass the bytes to make it deterministic in tests. */
export function makeNonce(random: Buffer = randomBytes(16)): string {
  return random.toString('hex');
}
