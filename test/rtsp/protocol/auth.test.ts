import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  basicChallenge,
  digestChallenge,
  digestResponse,
  makeNonce,
  parseAuthorization,
  parseDigestFields,
  verifyDigest,
  type DigestFields,
} from '../../../src/rtsp/protocol/index.js';

const md5 = (s: string): string => createHash('md5').update(s).digest('hex');

// RFC 2617 §3.5's worked example.
const RFC2617_HEADER =
  'Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", ' +
  'uri="/dir/index.html", qop=auth, nc=00000001, cnonce="0a4f113b", ' +
  'response="6629fae49393a05397450978507c4ef1", opaque="5ccc069c403ebaf9f0171e9517f40e41"';

function digest(value: string): DigestFields {
  const c = parseAuthorization(value);
  if (c?.scheme !== 'digest') throw new Error('expected Digest credentials');
  return c.fields;
}

describe('Basic', () => {
  it('decodes user and password (the password may contain ":")', () => {
    expect(parseAuthorization('Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==')).toEqual({ scheme: 'basic', user: 'Aladdin', password: 'open sesame' });
    const b64 = Buffer.from('u:p:a:ss').toString('base64');
    expect(parseAuthorization(`basic ${b64}`)).toEqual({ scheme: 'basic', user: 'u', password: 'p:a:ss' });
  });

  it.each(['Basic', 'Basic !!!', `Basic ${Buffer.from('nocolon').toString('base64')}`, 'Bearer abc', ''])('refuses %j', (v) => {
    expect(parseAuthorization(v)).toBeUndefined();
  });

  it('formats the challenge', () => {
    expect(basicChallenge('usher')).toBe('Basic realm="usher"');
    expect(basicChallenge('a "q" \\')).toBe('Basic realm="a \\"q\\" \\\\"');
  });
});

describe('Digest', () => {
  it('parses the RFC 2617 example', () => {
    expect(digest(RFC2617_HEADER)).toEqual({
      username: 'Mufasa',
      realm: 'testrealm@host.com',
      nonce: 'dcd98b7102dd2f0e8b11d0f600bfb0c093',
      uri: '/dir/index.html',
      qop: 'auth',
      nc: '00000001',
      cnonce: '0a4f113b',
      response: '6629fae49393a05397450978507c4ef1',
      opaque: '5ccc069c403ebaf9f0171e9517f40e41',
    });
  });

  it('verifies the RFC 2617 example (qop=auth) and refuses a wrong password, method, uri or nonce', () => {
    const f = digest(RFC2617_HEADER);
    expect(verifyDigest(f, 'GET', 'Circle Of Life')).toBe(true);
    expect(verifyDigest(f, 'GET', 'Circle of Life')).toBe(false);
    expect(verifyDigest(f, 'POST', 'Circle Of Life')).toBe(false);
    expect(verifyDigest({ ...f, uri: '/dir/other.html' }, 'GET', 'Circle Of Life')).toBe(false);
    expect(verifyDigest({ ...f, nc: '00000002' }, 'GET', 'Circle Of Life')).toBe(false);
    expect(verifyDigest(f, 'GET', 'Circle Of Life', { realm: 'testrealm@host.com', nonce: f.nonce })).toBe(true);
    expect(verifyDigest(f, 'GET', 'Circle Of Life', { nonce: 'another' })).toBe(false);
    expect(verifyDigest(f, 'GET', 'Circle Of Life', { realm: 'other' })).toBe(false);
    expect(verifyDigest({ ...f, response: f.response.toUpperCase() }, 'GET', 'Circle Of Life')).toBe(true);
    expect(verifyDigest({ ...f, response: 'short' }, 'GET', 'Circle Of Life')).toBe(false);
  });

  it("verifies ffmpeg's RFC 2069 answer (no qop), computed independently here", () => {
    const user = 'pub';
    const realm = 'usher';
    const nonce = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';
    const uri = 'rtsp://127.0.0.1:8554/live/cam';
    const password = 's3cret';
    const response = md5(`${md5(`${user}:${realm}:${password}`)}:${nonce}:${md5(`ANNOUNCE:${uri}`)}`);
    const f = digest(`Digest username="${user}", realm="${realm}", nonce="${nonce}", uri="${uri}", response="${response}"`);
    expect(verifyDigest(f, 'ANNOUNCE', password)).toBe(true);
    expect(verifyDigest(f, 'SETUP', password)).toBe(false);
    expect(digestResponse(f, 'ANNOUNCE', password)).toBe(response);
  });

  it('supports MD5-sess and refuses unsupported algorithms and qop=auth-int', () => {
    const base = { username: 'u', realm: 'r', nonce: 'n', uri: '/x', nc: '00000001', cnonce: 'c', qop: 'auth' };
    const ha1 = md5(`${md5('u:r:pw')}:n:c`);
    const response = md5(`${ha1}:n:00000001:c:auth:${md5('PLAY:/x')}`);
    expect(verifyDigest({ ...base, algorithm: 'MD5-sess', response }, 'PLAY', 'pw')).toBe(true);
    expect(verifyDigest({ ...base, algorithm: 'SHA-256', response }, 'PLAY', 'pw')).toBe(false);
    expect(digestResponse({ ...base, qop: 'auth-int' }, 'PLAY', 'pw')).toBeUndefined();
  });

  it('handles escaped quotes and commas inside quoted values, unquoted values and extra keys', () => {
    const f = parseDigestFields('username="a\\"b,c", realm=r, nonce="n", uri="rtsp://h/s?x=1,2", response="0", foo="bar"');
    expect(f).toEqual({ username: 'a"b,c', realm: 'r', nonce: 'n', uri: 'rtsp://h/s?x=1,2', response: '0' });
  });

  it.each([
    ['a missing response', 'Digest username="u", realm="r", nonce="n", uri="/"'],
    ['a repeated key', 'Digest username="u", username="v", realm="r", nonce="n", uri="/", response="x"'],
    ['an unterminated quote', 'Digest username="u, realm="r", nonce="n", uri="/", response="x'],
    ['junk between parameters', 'Digest username="u" realm="r", nonce="n", uri="/", response="x"'],
    ['no parameters', 'Digest'],
  ])('refuses %s', (_name, v) => {
    expect(parseAuthorization(v)).toBeUndefined();
  });

  it('formats the challenge, with options', () => {
    expect(digestChallenge('usher', 'abc')).toBe('Digest realm="usher", nonce="abc"');
    expect(digestChallenge('usher', 'abc', { qop: true, opaque: 'o', stale: true })).toBe(
      'Digest realm="usher", nonce="abc", qop="auth", opaque="o", stale=TRUE',
    );
    expect(() => digestChallenge('a\r\nb', 'n')).toThrow(TypeError);
  });

  it('round-trips a challenge-shaped parameter list through the parser', () => {
    fc.assert(
      fc.property(
        fc.record({ username: fc.string(), realm: fc.string(), nonce: fc.stringMatching(/^[0-9a-f]{0,32}$/), uri: fc.string(), response: fc.stringMatching(/^[0-9a-f]{0,32}$/) }),
        (f) => {
          const q = (s: string): string => `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
          const header = `Digest username=${q(f.username)}, realm=${q(f.realm)}, nonce=${q(f.nonce)}, uri=${q(f.uri)}, response=${q(f.response)}`;
          expect(parseAuthorization(header)).toEqual({ scheme: 'digest', fields: f });
        },
      ),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary headers', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.constantFrom('', 'Basic ', 'Digest '), (s, prefix) => {
        const c = parseAuthorization(prefix + s);
        if (c?.scheme === 'digest') expect(verifyDigest(c.fields, 'DESCRIBE', 'x')).toBe(digestResponse(c.fields, 'DESCRIBE', 'x') === c.fields.response.toLowerCase());
      }),
      { numRuns: 1000 },
    );
  });
});

describe('makeNonce', () => {
  it('makes 128-bit hex nonces that differ, deterministic given the bytes', () => {
    const a = makeNonce();
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(makeNonce()).not.toBe(a);
    expect(makeNonce(Buffer.alloc(16, 0xab))).toBe('ab'.repeat(16));
  });
});
