import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  REASON_PHRASES,
  cseq,
  formatResponse,
  parseQuery,
  parseRequestHead,
  parseRtspUrl,
  trackIndexOf,
  type RtspRequestHead,
} from '../../../src/rtsp/protocol/index.js';
import { FFMPEG_SETUP_TCP, VLC_DESCRIBE, VLC_PLAY, VLC_SETUP } from './fixtures.js';

function head(text: string): RtspRequestHead {
  const r = parseRequestHead(text);
  if (!r.ok) throw new Error(`unexpected parse error: ${r.message}`);
  return r.head;
}

describe('parseRequestHead', () => {
  it("parses VLC/live555's DESCRIBE", () => {
    const h = head(VLC_DESCRIBE);
    expect(h.method).toBe('DESCRIBE');
    expect(h.uri).toBe('rtsp://192.168.1.10:8554/live/cam');
    expect(h.version).toBe('RTSP/1.0');
    expect([...h.headers.keys()]).toEqual(['cseq', 'user-agent', 'accept']);
    expect(h.headers.get('user-agent')).toBe('LibVLC/3.0.18 (LIVE555 Streaming Media v2022.04.26)');
    expect(cseq(h)).toBe(4);
  });

  it("parses ffmpeg's SETUP with its Transport header", () => {
    const h = head(FFMPEG_SETUP_TCP);
    expect(h.method).toBe('SETUP');
    expect(h.headers.get('transport')).toBe('RTP/AVP/TCP;unicast;interleaved=0-1;mode=record');
    expect(cseq(h)).toBe(3);
  });

  it('joins repeated headers with ", " but keeps every Authorization apart', () => {
    const h = head(
      'DESCRIBE rtsp://h/s RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\naccept: text/parameters\r\n' +
        'Authorization: Basic dTpw\r\nAuthorization: Digest username="u", realm="r", nonce="n", uri="rtsp://h/s", response="x"\r\n\r\n',
    );
    expect(h.headers.get('accept')).toBe('application/sdp, text/parameters');
    expect(h.headers.get('authorization')).toBe('Basic dTpw');
    expect(h.authorization).toEqual([
      'Basic dTpw',
      'Digest username="u", realm="r", nonce="n", uri="rtsp://h/s", response="x"',
    ]);
  });

  it('accepts LF-only lines, trims values, unfolds continuation lines', () => {
    const h = head('PLAY rtsp://h/s RTSP/1.0\nCSeq:   9  \nX-Long: a\n  b\n\tc\n\n');
    expect(h.headers.get('cseq')).toBe('9');
    expect(h.headers.get('x-long')).toBe('a b c');
  });

  it('keeps a non-1.0 version for the server to answer 505', () => {
    expect(head('OPTIONS * RTSP/2.0\r\nCSeq: 1\r\n').version).toBe('RTSP/2.0');
  });

  it.each([
    ['empty', ''],
    ['two fields', 'OPTIONS RTSP/1.0'],
    ['double space', 'OPTIONS  * RTSP/1.0'],
    ['HTTP version', 'GET / HTTP/1.1'],
    ['bad method', 'OPT@ONS * RTSP/1.0'],
    ['header without colon', 'OPTIONS * RTSP/1.0\r\nCSeq 1'],
    ['empty header name', 'OPTIONS * RTSP/1.0\r\n: x'],
    ['space in header name', 'OPTIONS * RTSP/1.0\r\nC Seq: 1'],
    ['continuation first', 'OPTIONS * RTSP/1.0\r\n  x'],
    ['NUL in a value', 'OPTIONS * RTSP/1.0\r\nCSeq: 1\x00'],
    ['bare CR inside a value', 'OPTIONS * RTSP/1.0\r\nX-A: 1\rX-B: 2'],
  ])('refuses %s as E_MALFORMED', (_name, text) => {
    const r = parseRequestHead(text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.code).toBe('E_MALFORMED');
  });

  it('counts headers against the bound (folded lines do not count)', () => {
    const text = 'OPTIONS * RTSP/1.0\r\nA: 1\r\n 1b\r\nB: 2\r\nC: 3\r\n';
    expect(parseRequestHead(text, 3).ok).toBe(true);
    const r = parseRequestHead(text, 2);
    expect(r).toEqual({ ok: false, code: 'E_TOO_MANY_HEADERS', message: expect.any(String) });
  });

  it('never throws on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (s) => {
        const r = parseRequestHead(s);
        expect(typeof r.ok).toBe('boolean');
        if (r.ok) expect(r.head.method.length).toBeGreaterThan(0);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('cseq', () => {
  it('reads a decimal CSeq and refuses anything else', () => {
    const h = (v?: string): { headers: Map<string, string> } => ({ headers: new Map(v === undefined ? [] : [['cseq', v]]) });
    expect(cseq(h('0'))).toBe(0);
    expect(cseq(h('4294967295'))).toBe(4294967295);
    expect(cseq(h())).toBeUndefined();
    expect(cseq(h(''))).toBeUndefined();
    expect(cseq(h('1, 2'))).toBeUndefined();
    expect(cseq(h('-1'))).toBeUndefined();
    expect(cseq(h('12345678901'))).toBeUndefined();
  });
});

describe('parseRtspUrl', () => {
  it('splits host, port, path and query', () => {
    expect(parseRtspUrl('rtsp://127.0.0.1:8554/live/cam?tkn=abc')).toEqual({
      host: '127.0.0.1',
      port: 8554,
      path: 'live/cam',
      query: 'tkn=abc',
    });
  });

  it('uses the scheme default port, lower-cases the host, drops user-info and trailing slashes', () => {
    expect(parseRtspUrl('rtsp://user:pw@Cam.Example.COM/live/cam/')).toEqual({ host: 'cam.example.com', port: 554, path: 'live/cam', query: '' });
    expect(parseRtspUrl('rtsps://h/s')?.port).toBe(322);
  });

  it('handles IPv6 literals', () => {
    expect(parseRtspUrl('rtsp://[::1]:8554/s')).toEqual({ host: '::1', port: 8554, path: 's', query: '' });
  });

  it('percent-decodes the path but leaves the query raw', () => {
    expect(parseRtspUrl('rtsp://h/caf%C3%A9/x%20y?a=%20b')).toMatchObject({ path: 'café/x y', query: 'a=%20b' });
  });

  it('accepts a bare absolute path (some clients send one)', () => {
    expect(parseRtspUrl('/live/cam?tkn=1')).toEqual({ host: '', port: 554, path: 'live/cam', query: 'tkn=1' });
  });

  it.each(['*', 'http://h/s', 'rtsp://', 'rtsp://h:99999/s', 'rtsp://h/%zz', 'rtsp://h/a b', 'live/cam'])(
    'refuses %s',
    (u) => {
      expect(parseRtspUrl(u)).toBeUndefined();
    },
  );

  it("splits ffmpeg's control segment appended after the query", () => {
    expect(parseRtspUrl('rtsp://127.0.0.1:8554/live/cam?tkn=abc/streamid=0', { splitControl: true })).toEqual({
      host: '127.0.0.1',
      port: 8554,
      path: 'live/cam',
      query: 'tkn=abc',
      trackId: 'streamid=0',
    });
  });

  it("splits live555's trackID path segment", () => {
    const u = parseRtspUrl('rtsp://192.168.1.10:8554/live/cam/trackID=1', { splitControl: true });
    expect(u).toMatchObject({ path: 'live/cam', trackId: 'trackID=1' });
    expect(trackIndexOf(u?.trackId)).toBe(1);
  });

  it('splits only when asked, and only what looks like a control (or is listed)', () => {
    expect(parseRtspUrl('rtsp://h/live/cam/trackID=1')).toMatchObject({ path: 'live/cam/trackID=1' });
    expect(parseRtspUrl('rtsp://h/live/cam', { splitControl: true })).toEqual({ host: 'h', port: 554, path: 'live/cam', query: '' });
    expect(parseRtspUrl('rtsp://h/trackID=1', { splitControl: true })).toEqual({ host: 'h', port: 554, path: 'trackID=1', query: '' });
    expect(parseRtspUrl('rtsp://h/live/cam/video', { splitControl: true })?.trackId).toBeUndefined();
    expect(parseRtspUrl('rtsp://h/live/cam/video', { splitControl: ['video', 'audio'] })).toMatchObject({ path: 'live/cam', trackId: 'video' });
  });

  it('reads the track index of the controls readers use', () => {
    expect(trackIndexOf('trackID=12')).toBe(12);
    expect(trackIndexOf('streamid=0')).toBe(0);
    expect(trackIndexOf('track3')).toBe(3);
    expect(trackIndexOf('video')).toBeUndefined();
    expect(trackIndexOf(undefined)).toBeUndefined();
  });

  it('works on the URLs of real PLAY/SETUP requests', () => {
    const setup = parseRequestHead(VLC_SETUP);
    const play = parseRequestHead(VLC_PLAY);
    if (!setup.ok || !play.ok) throw new Error('fixtures must parse');
    expect(parseRtspUrl(setup.head.uri, { splitControl: true })).toMatchObject({ path: 'live/cam', trackId: 'trackID=1' });
    expect(parseRtspUrl(play.head.uri, { splitControl: true })).toEqual({ host: '192.168.1.10', port: 8554, path: 'live/cam', query: '' });
  });

  it('never throws on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string().map((s) => `rtsp://${s}`)), fc.boolean(), (s, split) => {
        const u = parseRtspUrl(s, { splitControl: split });
        if (u) {
          expect(u.path.startsWith('/')).toBe(false);
          expect(u.port).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseQuery', () => {
  it('decodes pairs and keeps the first of a repeated key', () => {
    const q = parseQuery('tkn=a%2Bb&token=x+y&tkn=zzz&flag&bad=%zz');
    expect(q.get('tkn')).toBe('a+b');
    expect(q.get('token')).toBe('x y');
    expect(q.get('flag')).toBe('');
    expect(q.has('bad')).toBe(false);
  });
});

describe('formatResponse', () => {
  it('writes the status line, headers in order, and Content-Length for a body', () => {
    const out = formatResponse(200, [['CSeq', '2'], ['Content-Type', 'application/sdp']], 'v=0\r\n');
    expect(out.toString()).toBe('RTSP/1.0 200 OK\r\nCSeq: 2\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n');
  });

  it('counts Content-Length in bytes, not characters', () => {
    const out = formatResponse(200, { CSeq: '1' }, 's=café');
    expect(out.toString()).toContain('Content-Length: 7\r\n');
    expect(out.subarray(out.length - 7).toString()).toBe('s=café');
  });

  it('writes no Content-Length without a body, and repeats headers given twice', () => {
    const out = formatResponse(401, [['CSeq', '3'], ['WWW-Authenticate', 'Digest realm="u", nonce="n"'], ['WWW-Authenticate', 'Basic realm="u"']]);
    expect(out.toString()).toBe(
      'RTSP/1.0 401 Unauthorized\r\nCSeq: 3\r\nWWW-Authenticate: Digest realm="u", nonce="n"\r\nWWW-Authenticate: Basic realm="u"\r\n\r\n',
    );
  });

  it.each([
    [400, 'Bad Request'],
    [403, 'Forbidden'],
    [404, 'Not Found'],
    [405, 'Method Not Allowed'],
    [406, 'Not Acceptable'],
    [451, 'Parameter Not Understood'],
    [453, 'Not Enough Bandwidth'],
    [454, 'Session Not Found'],
    [455, 'Method Not Valid in This State'],
    [459, 'Aggregate Operation Not Allowed'],
    [461, 'Unsupported Transport'],
    [500, 'Internal Server Error'],
    [501, 'Not Implemented'],
    [503, 'Service Unavailable'],
    [505, 'RTSP Version Not Supported'],
  ])('uses the RFC 2326 reason phrase for %i', (status, reason) => {
    expect(formatResponse(status, {}).toString()).toBe(`RTSP/1.0 ${status} ${reason}\r\n\r\n`);
    expect(REASON_PHRASES[status]).toBe(reason);
  });

  it('refuses header injection and bad statuses', () => {
    expect(() => formatResponse(200, { CSeq: '1\r\nX-Evil: 1' })).toThrow(TypeError);
    expect(() => formatResponse(200, [['Bad Name', 'x']])).toThrow(TypeError);
    expect(() => formatResponse(20, {})).toThrow(TypeError);
  });

  it('produces responses whose head parses back (as a request-shaped head with the same headers)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,10}$/), fc.stringMatching(/^[!-~]([ -~]{0,30}[!-~])?$/)), { maxLength: 8 }),
        (pairs) => {
          const text = formatResponse(200, pairs).toString();
          const lines = text.split('\r\n');
          expect(lines[0]).toBe('RTSP/1.0 200 OK');
          // Reuse the request parser on the header block by swapping in a request line.
          const r = parseRequestHead(['OPTIONS * RTSP/1.0', ...lines.slice(1)].join('\r\n'));
          expect(r.ok).toBe(true);
          if (r.ok) {
            const expected = new Map<string, string>();
            for (const [k, v] of pairs) {
              const key = k.toLowerCase();
              expected.set(key, expected.has(key) ? `${expected.get(key)}, ${v}` : v);
            }
            expect(r.head.headers).toEqual(expected);
          }
        },
      ),
    );
  });
});
