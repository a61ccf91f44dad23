import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { formatRtpInfo, parseRtpInfo, type RtpInfoEntry } from '../../../src/rtsp/protocol/index.js';

describe('RTP-Info', () => {
  it('formats several tracks, omitting unknown values', () => {
    expect(
      formatRtpInfo([
        { url: 'rtsp://h:8554/live/cam/trackID=0', seq: 12345, rtptime: 4294967295 },
        { url: 'rtsp://h:8554/live/cam/trackID=1', seq: 0 },
        { url: 'rtsp://h:8554/live/cam/trackID=2' },
      ]),
    ).toBe(
      'url=rtsp://h:8554/live/cam/trackID=0;seq=12345;rtptime=4294967295,' +
        'url=rtsp://h:8554/live/cam/trackID=1;seq=0,url=rtsp://h:8554/live/cam/trackID=2',
    );
  });

  it('refuses URLs and numbers that would break the list', () => {
    expect(() => formatRtpInfo([{ url: 'rtsp://h/a,b' }])).toThrow(TypeError);
    expect(() => formatRtpInfo([{ url: 'rtsp://h/a;b' }])).toThrow(TypeError);
    expect(() => formatRtpInfo([{ url: 'rtsp://h/a', seq: 65536 }])).toThrow(RangeError);
    expect(() => formatRtpInfo([{ url: 'rtsp://h/a', rtptime: -1 }])).toThrow(RangeError);
  });

  it('parses what live555 sends and refuses garbage', () => {
    expect(parseRtpInfo('url=rtsp://h/s/track1;seq=26286;rtptime=1819843016')).toEqual([
      { url: 'rtsp://h/s/track1', seq: 26286, rtptime: 1819843016 },
    ]);
    expect(parseRtpInfo('seq=1')).toBeUndefined();
    expect(parseRtpInfo('url=x;seq=99999')).toBeUndefined();
  });

  it('round-trips', () => {
    const entry: fc.Arbitrary<RtpInfoEntry> = fc.record(
      {
        url: fc.stringMatching(/^rtsp:\/\/[a-z0-9.]{1,20}\/[a-z0-9/=_-]{0,30}$/),
        seq: fc.integer({ min: 0, max: 0xffff }),
        rtptime: fc.integer({ min: 0, max: 0xffffffff }),
      },
      { requiredKeys: ['url'] },
    );
    fc.assert(
      fc.property(fc.array(entry, { minLength: 1, maxLength: 5 }), (entries) => {
        expect(parseRtpInfo(formatRtpInfo(entries))).toEqual(entries);
      }),
    );
  });
});
