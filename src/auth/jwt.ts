/**
 * JWT verification with jose: an explicit algorithm allow-list (never `none`), issuer/audience checks,
 * an HS* shared secret or a local JWKS file.
 */
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, errors as joseErrors, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Config } from '../config/schema.js';
import { UsherError } from '../errors.js';

export interface JwtVerifier {
  verify(token: string, now: number): Promise<JWTPayload>;
}

export function looksJwt(token: string): boolean {
  const parts = token.split('.');
  return parts.length === 3 && parts[0].startsWith('eyJ');
}

export function createJwtVerifier(cfg: Config['auth']['jwt']): JwtVerifier | undefined {
  const algorithms = cfg.algorithms.filter((a) => (a as string).toLowerCase() !== 'none');
  let key: Uint8Array | JWTVerifyGetKey | undefined;
  if (cfg.jwksFile) {
    const jwks = JSON.parse(readFileSync(cfg.jwksFile, 'utf8')) as Parameters<typeof createLocalJWKSet>[0];
    key = createLocalJWKSet(jwks);
  } else if (cfg.secret) {
    key = new TextEncoder().encode(cfg.secret);
  }
  if (!key) return undefined;
  const k = key;
  return {
    async verify(token, now) {
      try {
        const opts = {
          algorithms,
          issuer: cfg.issuer || undefined,
          audience: cfg.audience || undefined,
          currentDate: new Date(now),
          clockTolerance: 5,
        };
        const { payload } = k instanceof Uint8Array ? await jwtVerify(token, k, opts) : await jwtVerify(token, k, opts);
        return payload;
      } catch (e) {
        if (e instanceof joseErrors.JWTExpired) throw new UsherError('E_TOKEN_EXPIRED', 'token has expired');
        throw new UsherError('E_TOKEN_INVALID', `token rejected: ${(e as Error).message}`);
      }
    },
  };
}
