import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatSessionHeader, isValidSessionId, newSessionId, parseSessionHeader } from '../../../src/rtsp/protocol/index.js';

describe('Session header', () => {
  it('parses an id with and without a timeout', () => {
    expect(parseSessionHeader('8a3f0c2e9b1d4f77;timeout=60')).toEqual({ id: '8a3f0c2e9b1d4f77', timeout: 60 });
    expect(parseSessionHeader(' 12345678 ')).toEqual({ id: '12345678' });
    expect(parseSessionHeader('abc; Timeout = 30 ; foo=bar')).toEqual({ id: 'abc', timeout: 30 });
  });

  it.each(['', ';timeout=60', 'a b', 'id;timeout=abc', 'id;timeout=-1', 'x'.repeat(129), 'id,other'])('refuses %j', (v) => {
    expect(parseSessionHeader(v)).toBeUndefined();
  });

  it('formats, and refuses ids that could not be read back', () => {
    expect(formatSessionHeader({ id: 'A1b2', timeout: 60 })).toBe('A1b2;timeout=60');
    expect(formatSessionHeader({ id: 'A1b2' })).toBe('A1b2');
    expect(() => formatSessionHeader({ id: 'a;b' })).toThrow(TypeError);
    expect(() => formatSessionHeader({ id: 'ab', timeout: 1.5 })).toThrow(TypeError);
  });

  it('makes unguessable valid ids, deterministic given the bytes', () => {
    const a = newSessionId();
    expect(a).toMatch(/^[0-9a-f]{16}$/);
    expect(newSessionId()).not.toBe(a);
    expect(isValidSessionId(a)).toBe(true);
    expect(newSessionId(Buffer.from([1, 2, 255]))).toBe('0102ff');
  });

  it('round-trips format → parse', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Za-z0-9$\-_.+]{1,128}$/),
        fc.option(fc.integer({ min: 0, max: 999_999_999 }), { nil: undefined }),
        (id, timeout) => {
          const s = timeout === undefined ? { id } : { id, timeout };
          expect(parseSessionHeader(formatSessionHeader(s))).toEqual(s);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary input, and what it accepts has a valid id', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (v) => {
        const s = parseSessionHeader(v);
        if (s) expect(isValidSessionId(s.id)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });
});
