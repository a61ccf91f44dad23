import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  RtspStreamDecoder,
  frameInterleaved,
  interleavedHeader,
  readRtpHeader,
  rtcpBye,
  rtpSequenceNumber,
  rtpSsrc,
  rtpTimestamp,
} from '../../../src/rtsp/protocol/index.js';
import { rtpPacket } from './fixtures.js';

describe('RTP header', () => {
  it('reads sequence number, timestamp and SSRC (unsigned, even above 2^31)', () => {
    const p = rtpPacket(0xfffe);
    p[1] = 0x80 | 97; // marker + PT 97
    expect(rtpSequenceNumber(p)).toBe(0xfffe);
    expect(rtpTimestamp(p)).toBe(0x12345678);
    expect(rtpSsrc(p)).toBe(0xdeadbeef);
    expect(readRtpHeader(p)).toEqual({ marker: true, payloadType: 97, sequenceNumber: 0xfffe, timestamp: 0x12345678, ssrc: 0xdeadbeef });
  });

  it('returns undefined for short packets and other versions', () => {
    const p = rtpPacket(1);
    expect(rtpSequenceNumber(p.subarray(0, 11))).toBeUndefined();
    expect(rtpTimestamp(Buffer.alloc(0))).toBeUndefined();
    expect(rtpSequenceNumber(p.subarray(0, 12))).toBe(1);
    const v1 = Buffer.from(p);
    v1[0] = 0x40;
    expect(rtpSsrc(v1)).toBeUndefined();
    expect(readRtpHeader(v1)).toBeUndefined();
  });

  it('never throws and agrees with Buffer readers on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (a) => {
        const b = Buffer.from(a);
        const h = readRtpHeader(b);
        if (b.length < 12 || b[0] >> 6 !== 2) expect(h).toBeUndefined();
        else expect(h).toEqual({ marker: b[1] >= 128, payloadType: b[1] & 127, sequenceNumber: b.readUInt16BE(2), timestamp: b.readUInt32BE(4), ssrc: b.readUInt32BE(8) });
      }),
    );
  });
});

describe('interleaved framing', () => {
  it('writes the 4-byte header into a preallocated buffer, for writev without copying the payload', () => {
    const hdr = Buffer.alloc(4);
    const out = interleavedHeader(2, 1400, hdr);
    expect(out).toBe(hdr);
    expect([...hdr]).toEqual([0x24, 2, 0x05, 0x78]);
    expect([...interleavedHeader(255, 65535)]).toEqual([0x24, 255, 0xff, 0xff]);
  });

  it('frames header and payload into one buffer', () => {
    const payload = rtpPacket(5, 10);
    const f = frameInterleaved(1, payload);
    expect(f.length).toBe(4 + payload.length);
    expect([...f.subarray(0, 4)]).toEqual([0x24, 1, 0, payload.length]);
    expect(f.subarray(4).equals(payload)).toBe(true);
    expect(f.buffer).not.toBe(payload.buffer);
  });

  it('refuses what a 4-byte header cannot express', () => {
    expect(() => frameInterleaved(0, Buffer.alloc(65536))).toThrow(RangeError);
    expect(() => interleavedHeader(256, 1)).toThrow(RangeError);
    expect(() => interleavedHeader(-1, 1)).toThrow(RangeError);
    expect(() => interleavedHeader(0, 1, Buffer.alloc(3))).toThrow(RangeError);
  });

  it('is decoded back by RtspStreamDecoder', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 3000 }), (ch, bytes) => {
        const payload = Buffer.from(bytes);
        const viaHeader = Buffer.concat([interleavedHeader(ch, payload.length), payload]);
        expect(viaHeader.equals(frameInterleaved(ch, payload))).toBe(true);
        const items = new RtspStreamDecoder().push(frameInterleaved(ch, payload));
        expect(items).toHaveLength(1);
        const f = items[0];
        expect(f.type === 'frame' && f.channel === ch && f.payload.equals(payload)).toBe(true);
      }),
    );
  });
});

describe('rtcpBye', () => {
  it('is an empty receiver report then a BYE for the SSRC, each header consistent with its length', () => {
    const b = rtcpBye(0xdeadbeef);
    expect(b.length).toBe(16);
    // first packet: V=2, no padding, RC=0, PT=RR (201), length 1 (two 32-bit words), SSRC
    expect([b[0] >> 6, (b[0] >> 5) & 1, b[0] & 0x1f, b[1], b.readUInt16BE(2)]).toEqual([2, 0, 0, 201, 1]);
    expect(b.readUInt32BE(4)).toBe(0xdeadbeef);
    // second packet: V=2, SC=1, PT=BYE (203), length 1, the leaving SSRC
    expect([b[8] >> 6, (b[8] >> 5) & 1, b[8] & 0x1f, b[9], b.readUInt16BE(10)]).toEqual([2, 0, 1, 203, 1]);
    expect(b.readUInt32BE(12)).toBe(0xdeadbeef);
    expect(rtcpBye(0).readUInt32BE(12)).toBe(0);
  });
});
