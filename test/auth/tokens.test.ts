import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, UnsecuredJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { Credentials } from '../../src/auth/credentials.js';
import { signToken, verifySigned } from '../../src/auth/signed-url.js';
import { loadConfig } from '../../src/config/load.js';
import type { AdmissionRequest } from '../../src/core/types.js';
import type { UsherError } from '../../src/errors.js';
import { tmpDir } from '../helpers/usher.js';

const SECRET = 's3cret';
const now = Date.UTC(2026, 10, 22);
const req = (o: Partial<AdmissionRequest> = {}): AdmissionRequest => ({ server: 'api', protocol: 'rtsp', action: 'play', stream: 'live/demo', ip: '10.0.0.1', ...o });

async function code(p: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof p === 'function' ? p() : p);
    return 'ok';
  } catch (e) {
    return (e as UsherError).code;
  }
}

describe('signed URL tokens (HMAC-SHA256)', () => {
  const tok = signToken(SECRET, { stream: 'live/demo', account: 'alice', plan: 'gold', device: 'tv', ttlSeconds: 60, now });

  it('verifies and carries the claims', () => {
    const p = verifySigned(SECRET, tok, '10.0.0.1', now);
    expect(p).toMatchObject({ s: 'live/demo', a: 'play', sub: 'alice', plan: 'gold', dev: 'tv' });
    expect(p.e).toBe(Math.floor(now / 1000) + 60);
  });

  it('rejects a wrong secret, a tampered payload and a truncated signature', async () => {
    expect(await code(Promise.resolve().then(() => verifySigned('other', tok, '10.0.0.1', now)))).toBe('E_TOKEN_INVALID');
    const [p, s] = tok.split('.');
    const forged = Buffer.from(Buffer.from(p, 'base64url').toString().replace('alice', 'mallo')).toString('base64url');
    expect(await code(Promise.resolve().then(() => verifySigned(SECRET, `${forged}.${s}`, '10.0.0.1', now)))).toBe('E_TOKEN_INVALID');
    expect(await code(Promise.resolve().then(() => verifySigned(SECRET, `${p}.${s.slice(0, 10)}`, '10.0.0.1', now)))).toBe('E_TOKEN_INVALID');
  });

  it('refuses other spellings of the same signature (each would be a new session key)', async () => {
    for (const t of [`${tok}!!`, `${tok}=`, tok.slice(0, -1) + (tok.endsWith('A') ? 'B' : 'A')]) {
      expect(await code(Promise.resolve().then(() => verifySigned(SECRET, t, '10.0.0.1', now)))).toBe('E_TOKEN_INVALID');
    }
  });

  it('expires', async () => {
    expect(await code(Promise.resolve().then(() => verifySigned(SECRET, tok, '10.0.0.1', now + 61_000)))).toBe('E_TOKEN_EXPIRED');
  });

  it('binds to an IP when asked', async () => {
    const bound = signToken(SECRET, { stream: 'live/demo', ip: '10.0.0.1', ttlSeconds: 60, now });
    expect(verifySigned(SECRET, bound, '10.0.0.1', now).ip).toBe('10.0.0.1');
    expect(await code(Promise.resolve().then(() => verifySigned(SECRET, bound, '10.0.0.2', now)))).toBe('E_TOKEN_INVALID');
  });
});

describe('credentials step', () => {
  const cfg = (auth: Record<string, unknown>) => loadConfig({ env: {}, overrides: { auth } }).auth;

  it('a signed token grants only its action and stream', async () => {
    const c = new Credentials(cfg({ signedUrls: { secret: SECRET } }));
    const claims = await c.verify(req(), signToken(SECRET, { stream: 'live/*', account: 'a', ttlSeconds: 60, now }), now);
    expect(claims.account).toBe('a');
    expect([...claims.actions]).toEqual(['play']);
    expect(claims.streams).toEqual(['live/*']);
    expect(claims.method).toBe('signed');
  });

  it('without any credential asks for one; anonymous play only when enabled', async () => {
    expect(await code(() => new Credentials(cfg({})).verify(req(), '', now))).toBe('E_CREDENTIALS_REQUIRED');
    const anon = await new Credentials(cfg({ anonymousPlay: true })).verify(req(), '', now);
    expect(anon.method).toBe('anonymous');
    expect(await code(() => new Credentials(cfg({ anonymousPlay: true })).verify(req({ action: 'publish' }), '', now))).toBe('E_CREDENTIALS_REQUIRED');
  });

  it('static stream keys (token or password), constant-time compared', async () => {
    const c = new Credentials(cfg({ streamKeys: { 'live/demo': 'k3y' } }));
    expect((await c.verify(req({ action: 'publish' }), 'k3y', now)).method).toBe('streamKey');
    expect((await c.verify(req({ action: 'publish', password: 'k3y' }), '', now)).method).toBe('streamKey');
    expect(await code(() => c.verify(req({ action: 'publish' }), 'nope', now))).toBe('E_TOKEN_INVALID');
    expect(await code(() => c.verify(req({ action: 'publish', stream: 'live/other' }), 'k3y', now))).toBe('E_TOKEN_INVALID');
  });

  it('stream keys can be checked through RTSP Digest without the key being sent', async () => {
    const c = new Credentials(cfg({ streamKeys: { 'live/demo': 'k3y' } }));
    expect((await c.verify(req({ action: 'publish', user: 'x', digest: (s) => s === 'k3y' }), '', now)).method).toBe('streamKey');
    expect(await code(() => c.verify(req({ action: 'publish', user: 'x', digest: () => false }), '', now))).toBe('E_TOKEN_INVALID');
  });

  describe('JWT', () => {
    const key = new TextEncoder().encode('jwt-secret-jwt-secret-jwt-secret!');
    const jwt = (claims: Record<string, unknown>, alg = 'HS256', exp = Math.floor(now / 1000) + 60) =>
      new SignJWT(claims).setProtectedHeader({ alg }).setIssuer('site').setAudience('usher').setExpirationTime(exp).sign(key);
    const c = new Credentials(cfg({ jwt: { secret: 'jwt-secret-jwt-secret-jwt-secret!', issuer: 'site', audience: 'usher' } }));

    it('verifies sub/plan/device and scopes', async () => {
      const claims = await c.verify(req(), await jwt({ sub: 'bob', plan: 'gold', device: 'phone' }), now);
      expect(claims).toMatchObject({ account: 'bob', plan: 'gold', device: 'phone', method: 'jwt', streams: null });
      expect([...claims.actions]).toEqual(['play']);
      const pub = await c.verify(req(), await jwt({ sub: 'bob', role: 'publisher', streams: ['live/demo'] }), now);
      expect(pub.actions.has('publish')).toBe(true);
      expect(pub.streams).toEqual(['live/demo']);
    });

    it('expired → E_TOKEN_EXPIRED', async () => {
      expect(await code(async () => c.verify(req(), await jwt({ sub: 'bob' }, 'HS256', Math.floor(now / 1000) - 60), now))).toBe('E_TOKEN_EXPIRED');
    });

    it('algorithm outside the allow-list, alg none, wrong issuer/audience → E_TOKEN_INVALID', async () => {
      expect(await code(async () => c.verify(req(), await jwt({ sub: 'bob' }, 'HS512'), now))).toBe('E_TOKEN_INVALID');
      const none = new UnsecuredJWT({ sub: 'bob' }).setIssuer('site').setAudience('usher').setExpirationTime(Math.floor(now / 1000) + 60).encode();
      expect(await code(() => c.verify(req(), none + 'x', now))).toBe('E_TOKEN_INVALID');
      const wrongIss = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('evil').setAudience('usher').setExpirationTime(Math.floor(now / 1000) + 60).sign(key);
      expect(await code(() => c.verify(req(), wrongIss, now))).toBe('E_TOKEN_INVALID');
    });

    it('a JWT must name its account (sub) and carry an exp no more than 400 days ahead (SPEC §11)', async () => {
      const noSub = await jwt({ plan: 'gold' });
      expect(await code(() => c.verify(req(), noSub, now))).toBe('E_TOKEN_INVALID');
      const noExp = await new SignJWT({ sub: 'bob' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('site').setAudience('usher').sign(key);
      expect(await code(() => c.verify(req(), noExp, now))).toBe('E_TOKEN_INVALID');
      expect(await code(async () => c.verify(req(), await jwt({ sub: 'bob' }, 'HS256', 1e13), now))).toBe('E_TOKEN_INVALID');
      const year = await jwt({ sub: 'bob' }, 'HS256', Math.floor(now / 1000) + 365 * 86400);
      expect((await c.verify(req(), year, now)).expiresAt).toBe((Math.floor(now / 1000) + 365 * 86400) * 1000);
    });

    it('RS256 with a JWKS file', async () => {
      const { publicKey, privateKey } = await generateKeyPair('RS256');
      const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
      const file = join(tmpDir(), 'jwks.json');
      writeFileSync(file, JSON.stringify({ keys: [jwk] }));
      const rc = new Credentials(cfg({ jwt: { jwksFile: file, algorithms: ['RS256'] } }));
      const t = await new SignJWT({ sub: 'carol' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setExpirationTime(Math.floor(now / 1000) + 60).sign(privateKey);
      expect((await rc.verify(req(), t, now)).account).toBe('carol');
      // an HS256 token forged with the public key as secret must not pass (algorithm confusion)
      const forged = await new SignJWT({ sub: 'mallory' }).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setExpirationTime(Math.floor(now / 1000) + 60)
        .sign(new TextEncoder().encode(JSON.stringify(jwk)));
      expect(await code(() => rc.verify(req(), forged, now))).toBe('E_TOKEN_INVALID');
    });
  });
});
