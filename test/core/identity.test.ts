import { describe, expect, it } from 'vitest';
import { extractToken, kindOf, modeOf, normalizeStream, sessionKey, streamMatches, validStreamName } from '../../src/core/identity.js';
import { loadConfig } from '../../src/config/load.js';

const f = { stream: 'live/demo', ip: '10.0.0.1', token: 'tok', protocol: 'rtsp' };

describe('session identity (MistServer bitmask modes)', () => {
  it('defaults: viewer 14, input 15, output 15, unspecified 0', () => {
    const s = loadConfig({ env: {} }).sessions;
    expect([modeOf('viewer', s), modeOf('input', s), modeOf('output', s), modeOf('unspecified', s)]).toEqual([14, 15, 15, 0]);
  });

  it('viewer mode 14 ignores the protocol: switching protocol stays one session', () => {
    expect(sessionKey('viewer', 14, f)).toBe(sessionKey('viewer', 14, { ...f, protocol: 'rtmp' }));
  });

  it('mode 15 separates protocols', () => {
    expect(sessionKey('input', 15, f)).not.toBe(sessionKey('input', 15, { ...f, protocol: 'rtmp' }));
  });

  it('each bit selects its field', () => {
    const base = sessionKey('viewer', 8, f);
    expect(sessionKey('viewer', 8, { ...f, ip: 'x', token: 'y', protocol: 'z' })).toBe(base);
    expect(sessionKey('viewer', 8, { ...f, stream: 'other' })).not.toBe(base);
    expect(sessionKey('viewer', 4, { ...f, ip: 'other' })).not.toBe(sessionKey('viewer', 4, f));
    expect(sessionKey('viewer', 2, { ...f, token: 'other' })).not.toBe(sessionKey('viewer', 2, f));
    expect(sessionKey('viewer', 1, { ...f, protocol: 'hls' })).not.toBe(sessionKey('viewer', 1, f));
  });

  it('mode 0 means not tracked', () => {
    expect(sessionKey('unspecified', 0, f)).toBeUndefined();
  });

  it('a viewer and a publisher with the same fields are different sessions', () => {
    expect(sessionKey('viewer', 15, f)).not.toBe(sessionKey('input', 15, f));
  });

  it('field boundaries cannot be forged by shifting characters between fields', () => {
    expect(sessionKey('viewer', 14, { ...f, stream: 'ab', ip: 'c' })).not.toBe(sessionKey('viewer', 14, { ...f, stream: 'a', ip: 'bc' }));
  });

  it('kind follows the action unless overridden', () => {
    expect(kindOf({ action: 'publish' })).toBe('input');
    expect(kindOf({ action: 'play' })).toBe('viewer');
    expect(kindOf({ action: 'play', kind: 'output' })).toBe('output');
  });
});

describe('token extraction: field, then ?tkn=, then ?token=, then the tkn cookie', () => {
  it('takes the explicit field first', () => {
    expect(extractToken({ token: 'a', query: 'tkn=b', cookie: 'tkn=c' }, 'tkn')).toBe('a');
  });
  it('then the query parameter', () => {
    expect(extractToken({ query: 'x=1&tkn=b', cookie: 'tkn=c' }, 'tkn')).toBe('b');
    expect(extractToken({ query: 'token=q' }, 'tkn')).toBe('q');
  });
  it('then the cookie', () => {
    expect(extractToken({ query: 'x=1', cookie: 'a=1; tkn=c%20d; b=2' }, 'tkn')).toBe('c d');
  });
  it('honours a configured parameter name', () => {
    expect(extractToken({ query: 'tkn=no&sig=yes' }, 'sig')).toBe('yes');
  });
  it('is empty when there is none', () => {
    expect(extractToken({}, 'tkn')).toBe('');
  });
});

describe('stream names', () => {
  it('are the path without leading slash and without query', () => {
    expect(normalizeStream('/live/demo?tkn=abc')).toBe('live/demo');
    expect(normalizeStream('live/demo/')).toBe('live/demo');
    expect(normalizeStream('/live/my%20show')).toBe('live/my show');
  });
  it('refuse empty, control characters and dot-dot segments', () => {
    expect(validStreamName('')).toBe(false);
    expect(validStreamName('live/\u0001x')).toBe(false);
    expect(validStreamName('live/../etc')).toBe(false);
    expect(validStreamName('live/demo')).toBe(true);
  });
  it('patterns: exact or prefix*', () => {
    expect(streamMatches('live/*', 'live/demo')).toBe(true);
    expect(streamMatches('live/*', 'vod/demo')).toBe(false);
    expect(streamMatches('live/demo', 'live/demo2')).toBe(false);
  });
});

describe('session ids (UUIDv7)', async () => {
  const { uuidv7 } = await import('../../src/core/ids.js');
  it('are RFC 9562 version 7, time-ordered and unique', () => {
    const a = uuidv7(1_700_000_000_000);
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(a.slice(0, 13).replace('-', '')).toBe((1_700_000_000_000).toString(16).padStart(12, '0'));
    expect(uuidv7(1_700_000_000_001) > a).toBe(true);
    const many = new Set(Array.from({ length: 10_000 }, () => uuidv7(1)));
    expect(many.size).toBe(10_000);
  });
});
