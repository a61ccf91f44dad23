import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  findMediaForSetup,
  parseSdp,
  rtpMapOf,
  sdpForReaders,
  serializeSdp,
  type SessionDescription,
} from '../../../src/rtsp/protocol/index.js';
import { FFMPEG_SDP, PUBLISH_URL } from './fixtures.js';

function sdp(text: string | Buffer): SessionDescription {
  const r = parseSdp(text);
  if (!r.ok) throw new Error(r.message);
  return r.sdp;
}

const READER_SDP =
  'v=0\r\n' +
  'o=- 0 0 IN IP4 127.0.0.1\r\n' +
  's=No Name\r\n' +
  'c=IN IP4 127.0.0.1\r\n' +
  't=0 0\r\n' +
  'a=tool:libavformat 59.27.100\r\n' +
  'a=control:*\r\n' +
  'm=video 0 RTP/AVP 96\r\n' +
  'a=rtpmap:96 H264/90000\r\n' +
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E\r\n' +
  'a=control:trackID=0\r\n' +
  'm=audio 0 RTP/AVP 97\r\n' +
  'b=AS:128\r\n' +
  'a=rtpmap:97 MPEG4-GENERIC/44100/2\r\n' +
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500\r\n' +
  'a=control:trackID=1\r\n';

describe('parseSdp', () => {
  it("reads ffmpeg's SDP: media types, payload types, rtpmap, fmtp, controls", () => {
    const d = sdp(FFMPEG_SDP);
    expect(d.control).toBeUndefined();
    expect(d.session.map((l) => l.type)).toEqual(['v', 'o', 's', 'c', 't', 'a']);
    expect(d.media).toHaveLength(2);
    const [video, audio] = d.media;
    expect(video).toMatchObject({ type: 'video', port: 0, proto: 'RTP/AVP', formats: ['96'], payloadTypes: [96], control: 'streamid=0' });
    expect(rtpMapOf(video)).toEqual({ payloadType: 96, encoding: 'H264', clockRate: 90000 });
    expect(video.fmtp.get(96)).toContain('sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA');
    expect(audio).toMatchObject({ type: 'audio', payloadTypes: [97], control: 'streamid=1' });
    expect(rtpMapOf(audio, 97)).toEqual({ payloadType: 97, encoding: 'MPEG4-GENERIC', clockRate: 44100, channels: 2 });
    expect(audio.lines.map((l) => l.type)).toEqual(['m', 'b', 'a', 'a', 'a']);
  });

  it('re-serializes byte for byte', () => {
    expect(serializeSdp(sdp(FFMPEG_SDP))).toBe(FFMPEG_SDP);
    expect(serializeSdp(sdp(Buffer.from(FFMPEG_SDP)))).toBe(FFMPEG_SDP);
  });

  it('accepts LF-only line ends (and writes CRLF back)', () => {
    const lf = FFMPEG_SDP.replace(/\r\n/g, '\n');
    expect(serializeSdp(sdp(lf))).toBe(FFMPEG_SDP);
  });

  it('falls back to the RFC 3551 static payload types', () => {
    const d = sdp('v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\nm=audio 0 RTP/AVP 0 8\r\nm=video 0 RTP/AVP 26\r\n');
    expect(rtpMapOf(d.media[0])).toEqual({ payloadType: 0, encoding: 'PCMU', clockRate: 8000, channels: 1 });
    expect(rtpMapOf(d.media[0], 8)?.encoding).toBe('PCMA');
    expect(rtpMapOf(d.media[1])).toEqual({ payloadType: 26, encoding: 'JPEG', clockRate: 90000 });
    expect(rtpMapOf(d.media[0], 99)).toBeUndefined();
  });

  it('reads a session-level control', () => {
    expect(sdp('v=0\no=- 0 0 IN IP4 0.0.0.0\ns=x\nt=0 0\na=control:*\nm=video 0 RTP/AVP 96\n').control).toBe('*');
  });

  it.each([
    ['empty', ''],
    ['HTML', '<html><body>hi</body></html>'],
    ['no v= first', 'o=- 0 0 IN IP4 0.0.0.0\r\nv=0\r\nm=video 0 RTP/AVP 96\r\n'],
    ['v=1', 'v=1\r\nm=video 0 RTP/AVP 96\r\n'],
    ['no media', 'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=x\r\nt=0 0\r\n'],
    ['a line without "="', 'v=0\r\nm=video 0 RTP/AVP 96\r\nhello\r\n'],
    ['upper-case type', 'v=0\r\nM=video 0 RTP/AVP 96\r\n'],
    ['a control character', 'v=0\r\nm=video 0 RTP/AVP 96\r\na=x\x01\r\n'],
    ['a broken m= line', 'v=0\r\nm=video RTP/AVP 96\r\n'],
    ['an RTP payload type above 127', 'v=0\r\nm=video 0 RTP/AVP 200\r\n'],
    ['a port above 65535', 'v=0\r\nm=video 70000 RTP/AVP 96\r\n'],
    ['a broken rtpmap', 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264\r\n'],
    ['a zero clock rate', 'v=0\r\nm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/0\r\n'],
  ])('refuses %s', (_name, text) => {
    expect(parseSdp(text).ok).toBe(false);
  });

  it('bounds the number of media sections', () => {
    const many = (n: number): string => 'v=0\r\n' + 'm=audio 0 RTP/AVP 0\r\n'.repeat(n);
    expect(parseSdp(many(16)).ok).toBe(true);
    expect(parseSdp(many(17)).ok).toBe(false);
    expect(parseSdp(many(3), { maxMedia: 2 }).ok).toBe(false);
  });

  it('never throws on random input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 500 }), fc.uint8Array({ maxLength: 500 }).map((b) => Buffer.from(b))), (input) => {
        const r = parseSdp(input);
        if (r.ok) expect(r.sdp.media.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });

  it('never throws on mutated real SDPs, and what it accepts re-serializes to something it accepts again', () => {
    fc.assert(
      fc.property(fc.nat(FFMPEG_SDP.length - 1), fc.string({ maxLength: 8 }), (at, insert) => {
        const text = FFMPEG_SDP.slice(0, at) + insert + FFMPEG_SDP.slice(at + 1);
        const r = parseSdp(text);
        if (r.ok) {
          const again = parseSdp(serializeSdp(r.sdp));
          expect(again.ok && serializeSdp(again.sdp)).toBe(serializeSdp(r.sdp));
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('sdpForReaders', () => {
  it("rewrites ffmpeg's SDP: a=control:* at session level, trackID=N per media, everything else kept", () => {
    expect(sdpForReaders(sdp(FFMPEG_SDP))).toBe(READER_SDP);
  });

  it('repairs a missing or broken o=, an empty s=, a missing t=, and replaces old controls', () => {
    const out = sdpForReaders(sdp('v=0\r\no=garbage\r\ns=\r\na=control:rtsp://old/\r\nm=video 0 RTP/AVP 96\r\na=control:rtsp://old/video\r\na=rtpmap:96 H264/90000\r\n'));
    expect(out).toBe(
      'v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=Stream\r\nt=0 0\r\na=control:*\r\n' +
        'm=video 0 RTP/AVP 96\r\na=rtpmap:96 H264/90000\r\na=control:trackID=0\r\n',
    );
  });

  it('puts o= and s= right after v= and takes overrides', () => {
    const out = sdpForReaders(sdp('v=0\r\nt=0 0\r\ns=late\r\nm=audio 0 RTP/AVP 0\r\n'), {
      origin: '- 42 1 IN IP4 10.0.0.5',
      sessionName: 'live/cam',
    });
    expect(out.split('\r\n').slice(0, 5)).toEqual(['v=0', 'o=- 42 1 IN IP4 10.0.0.5', 's=live/cam', 't=0 0', 'a=control:*']);
  });

  it('always yields an SDP that parses, with one trackID=N control per media', () => {
    const mediaArb = fc.record({
      type: fc.constantFrom('video', 'audio', 'application'),
      pt: fc.integer({ min: 96, max: 127 }),
      control: fc.option(fc.stringMatching(/^[a-z]{1,6}=?[0-9]{0,2}$/), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(mediaArb, { minLength: 1, maxLength: 16 }), fc.boolean(), (medias, withSessionControl) => {
        let text = 'v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=x\r\nt=0 0\r\n';
        if (withSessionControl) text += 'a=control:rtsp://somewhere/\r\n';
        for (const m of medias) {
          text += `m=${m.type} 0 RTP/AVP ${m.pt}\r\na=rtpmap:${m.pt} X/90000\r\n`;
          if (m.control !== undefined) text += `a=control:${m.control}\r\n`;
        }
        const again = sdp(sdpForReaders(sdp(text)));
        expect(again.control).toBe('*');
        expect(again.media.map((m) => m.control)).toEqual(medias.map((_, i) => `trackID=${i}`));
        expect(again.media.map((m) => m.payloadTypes[0])).toEqual(medias.map((m) => m.pt));
      }),
      { numRuns: 300 },
    );
  });
});

describe('findMediaForSetup', () => {
  const d = sdp(FFMPEG_SDP);

  it("finds ffmpeg's media by the control it appended after the query", () => {
    expect(findMediaForSetup(d, `${PUBLISH_URL}/streamid=0`)).toBe(0);
    expect(findMediaForSetup(d, `${PUBLISH_URL}/streamid=1`)).toBe(1);
    expect(findMediaForSetup(d, 'rtsp://127.0.0.1:8554/live/cam/streamid=1')).toBe(1);
  });

  it('does not confuse streamid=1 with streamid=11, and finds nothing for the aggregate URL', () => {
    expect(findMediaForSetup(d, `${PUBLISH_URL}/streamid=11`)).toBeUndefined();
    expect(findMediaForSetup(d, PUBLISH_URL)).toBeUndefined();
  });

  it('matches absolute controls exactly, and a lone media without control by any URL', () => {
    const abs = sdp('v=0\r\nm=video 0 RTP/AVP 96\r\na=control:rtsp://h/s/video\r\nm=audio 0 RTP/AVP 0\r\na=control:rtsp://h/s/audio\r\n');
    expect(findMediaForSetup(abs, 'rtsp://h/s/audio')).toBe(1);
    expect(findMediaForSetup(abs, 'rtsp://h/s/audio2')).toBeUndefined();
    const lone = sdp('v=0\r\nm=video 0 RTP/AVP 96\r\n');
    expect(findMediaForSetup(lone, 'rtsp://h/s')).toBe(0);
  });
});
