import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatRange, parseRange } from '../../../src/rtsp/protocol/index.js';

describe('Range (npt)', () => {
  it.each([
    ['npt=0.000-', { start: 0 }],
    ['npt=0-', { start: 0 }],
    ['npt=now-', { start: 'now' }],
    ['NPT = 10.5 - 20', { start: 10.5, end: 20 }],
    ['npt=1:02:03.5-', { start: 3723.5 }],
    ['npt=0-7.741000', { start: 0, end: 7.741 }],
    ['npt=5-;time=19970123T143720Z', { start: 5 }],
  ])('parses %s', (v, expected) => {
    expect(parseRange(v)).toEqual(expected);
  });

  it.each(['', 'npt=', 'npt=-', 'smpte=10:07:33-', 'clock=19961108T142300Z-', 'npt=20-10', 'npt=1:99:00-', 'npt=abc-'])(
    'refuses %j',
    (v) => {
      expect(parseRange(v)).toBeUndefined();
    },
  );

  it('formats with three decimals, as live servers answer PLAY', () => {
    expect(formatRange({ start: 0 })).toBe('npt=0.000-');
    expect(formatRange({ start: 'now' })).toBe('npt=now-');
    expect(formatRange({ start: 1.5, end: 2 })).toBe('npt=1.500-2.000');
    expect(() => formatRange({ start: -1 })).toThrow(RangeError);
  });

  it('round-trips millisecond times', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.option(fc.nat(10_000_000), { nil: undefined }), (a, d) => {
        const r = d === undefined ? { start: a / 1000 } : { start: a / 1000, end: (a + d) / 1000 };
        expect(parseRange(formatRange(r))).toEqual(r);
      }),
    );
  });

  it('never throws on arbitrary input', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), (v) => {
        const r = parseRange(`npt=${v}`);
        if (r && r.start !== 'now') expect(r.start).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
