import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RtspStreamDecoder, type DecodedItem } from '../../../src/rtsp/protocol/index.js';
import {
  FFMPEG_ANNOUNCE,
  FFMPEG_OPTIONS,
  FFMPEG_RECORD,
  FFMPEG_SDP,
  FFMPEG_SETUP_TCP,
  PUBLISH_URL,
  interleaved,
  plain,
  rtpPacket,
} from './fixtures.js';

function decodeAll(chunks: Buffer[], opts?: ConstructorParameters<typeof RtspStreamDecoder>[0]): DecodedItem[] {
  const d = new RtspStreamDecoder(opts);
  return chunks.flatMap((c) => d.push(c));
}

/** A publisher session as it appears on the wire: requests, then RTP/RTCP frames with a keep-alive in between. */
function publisherStream(): Buffer {
  const keepAlive =
    `GET_PARAMETER ${PUBLISH_URL} RTSP/1.0\r\nCSeq: 6\r\nSession: 8a3f0c2e9b1d4f77\r\nContent-Length: 0\r\n\r\n`;
  return Buffer.concat([
    Buffer.from(FFMPEG_OPTIONS + FFMPEG_ANNOUNCE + FFMPEG_SETUP_TCP + FFMPEG_RECORD),
    interleaved(0, rtpPacket(1)),
    interleaved(0, rtpPacket(2, 300)),
    interleaved(1, Buffer.from([0x80, 0xc8, 0x00, 0x06])), // RTCP SR start
    Buffer.from(keepAlive),
    interleaved(2, rtpPacket(3, 0, 97)),
    interleaved(0, Buffer.alloc(0)),
  ]);
}

describe('RtspStreamDecoder', () => {
  it("decodes ffmpeg's ANNOUNCE with its SDP body", () => {
    const items = decodeAll([Buffer.from(FFMPEG_ANNOUNCE)]);
    expect(items).toHaveLength(1);
    const it0 = items[0];
    if (it0.type !== 'request') throw new Error('expected a request');
    expect(it0.req.method).toBe('ANNOUNCE');
    expect(it0.req.uri).toBe(PUBLISH_URL);
    expect(it0.req.version).toBe('RTSP/1.0');
    expect(it0.req.headers.get('content-type')).toBe('application/sdp');
    expect(it0.req.headers.get('cseq')).toBe('2');
    expect(it0.req.headers.get('user-agent')).toBe('Lavf59.27.100');
    expect(it0.req.body.toString()).toBe(FFMPEG_SDP);
  });

  it('says when an item has begun and is not complete (inItem), for requests, bodies and frames', () => {
    const d = new RtspStreamDecoder();
    expect(d.inItem).toBe(false);
    d.push(Buffer.from('OPTIONS rtsp://h/x RTSP/1.0\r\nCSeq: 1\r\n'));
    expect(d.inItem).toBe(true);
    expect(d.push(Buffer.from('\r\n'))).toHaveLength(1);
    expect(d.inItem).toBe(false);
    d.push(Buffer.from('ANNOUNCE rtsp://h/x RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 3\r\n\r\n'));
    expect(d.inItem).toBe(true); // head complete, body (0 of 3 bytes) not
    d.push(Buffer.from('v=0'));
    expect(d.inItem).toBe(false);
    d.push(Buffer.from([0x24, 0]));
    expect(d.inItem).toBe(true);
    d.push(Buffer.from([0, 1, 7]));
    expect(d.inItem).toBe(false);
    d.close();
    expect(d.inItem).toBe(false);
  });

  it('decodes requests and interleaved frames mixed in one push, in order', () => {
    const items = plain(decodeAll([publisherStream()]));
    expect(items.map((i) => (i as { type: string; method?: string; channel?: number }).method ?? (i as { channel: number }).channel)).toEqual([
      'OPTIONS', 'ANNOUNCE', 'SETUP', 'RECORD', 0, 0, 1, 'GET_PARAMETER', 2, 0,
    ]);
    expect(items[4]).toEqual({ type: 'frame', channel: 0, payload: rtpPacket(1).toString('hex') });
    expect(items[9]).toEqual({ type: 'frame', channel: 0, payload: '' });
  });

  it('gives the same items for a split at every byte position', () => {
    const stream = publisherStream();
    const expected = plain(decodeAll([stream]));
    for (let i = 1; i < stream.length; i++) {
      const got = plain(decodeAll([stream.subarray(0, i), stream.subarray(i)]));
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        expect({ split: i, got }).toEqual({ split: i, got: expected });
      }
    }
  });

  it('gives the same items when fed one byte at a time', () => {
    const stream = publisherStream();
    const bytes = [...stream].map((b) => Buffer.from([b]));
    expect(plain(decodeAll(bytes))).toEqual(plain(decodeAll([stream])));
  });

  it('hands out a frame that lies in one chunk as a view of that chunk (no copy)', () => {
    const pkt = rtpPacket(7, 100);
    const chunk = Buffer.concat([interleaved(0, pkt), interleaved(1, pkt)]);
    const items = decodeAll([chunk]);
    expect(items).toHaveLength(2);
    for (const [n, item] of items.entries()) {
      if (item.type !== 'frame') throw new Error('expected a frame');
      expect(item.payload.buffer).toBe(chunk.buffer);
      expect(item.payload.byteOffset).toBe(chunk.byteOffset + 4 + n * (4 + pkt.length));
      expect(item.payload.equals(pkt)).toBe(true);
    }
  });

  it('also avoids the copy when only the 4-byte header was split', () => {
    const pkt = rtpPacket(9, 50);
    const wire = interleaved(3, pkt);
    const d = new RtspStreamDecoder();
    expect(d.push(wire.subarray(0, 2))).toEqual([]);
    const rest = wire.subarray(2);
    const items = d.push(rest);
    expect(items).toHaveLength(1);
    const f = items[0];
    if (f.type !== 'frame') throw new Error('expected a frame');
    expect(f.channel).toBe(3);
    expect(f.payload.buffer).toBe(rest.buffer);
    expect(f.payload.equals(pkt)).toBe(true);
  });

  it('assembles a maximum-size frame split over many chunks', () => {
    const payload = Buffer.alloc(65535);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 0xff;
    const wire = interleaved(5, payload);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 1000) chunks.push(wire.subarray(i, i + 1000));
    const d = new RtspStreamDecoder();
    const items: DecodedItem[] = [];
    for (const c of chunks.slice(0, -1)) items.push(...d.push(c));
    expect(items).toEqual([]);
    expect(d.bufferedBytes).toBeGreaterThan(60000);
    items.push(...d.push(chunks[chunks.length - 1]));
    expect(items).toHaveLength(1);
    const f = items[0];
    if (f.type !== 'frame') throw new Error('expected a frame');
    expect(f.channel).toBe(5);
    expect(f.payload.equals(payload)).toBe(true);
    expect(d.bufferedBytes).toBe(0);
  });

  it('skips stray CR/LF between messages and accepts LF-only heads', () => {
    const lfOnly = 'OPTIONS rtsp://h/s RTSP/1.0\nCSeq: 1\n\n';
    const items = decodeAll([Buffer.from(`\r\n${lfOnly}\r\n\r\n${FFMPEG_OPTIONS}`)]);
    expect(items.map((i) => (i.type === 'request' ? i.req.headers.get('cseq') : i.type))).toEqual(['1', '1']);
  });

  it('accepts a request of exactly maxRequestBytes and refuses one byte more', () => {
    const base = 'SET_PARAMETER rtsp://h/s RTSP/1.0\r\nCSeq: 3\r\nContent-Length: ';
    const make = (total: number): string => {
      const bodyLen = total - base.length - 4 - 3; // the Content-Length value has 3 digits at these sizes
      return `${base}${bodyLen}\r\n\r\n${'x'.repeat(bodyLen)}`;
    };
    const ok = make(200);
    expect(Buffer.byteLength(ok)).toBe(200);
    const good = decodeAll([Buffer.from(ok)], { maxRequestBytes: 200 });
    expect(good.map((i) => i.type)).toEqual(['request']);
    const tooBig = decodeAll([Buffer.from(make(201))], { maxRequestBytes: 200 });
    expect(tooBig).toEqual([{ type: 'error', code: 'E_TOO_LARGE', message: expect.any(String) }]);
  });

  it('refuses a head that never ends within maxRequestBytes, without waiting for the end', () => {
    const d = new RtspStreamDecoder({ maxRequestBytes: 100 });
    const items = d.push(Buffer.from(`DESCRIBE rtsp://h/${'a'.repeat(200)}`));
    expect(items.map((i) => (i.type === 'error' ? i.code : i.type))).toEqual(['E_TOO_LARGE']);
    expect(d.failed?.code).toBe('E_TOO_LARGE');
  });

  it('refuses a Content-Length beyond the bound before reading the body', () => {
    const items = decodeAll([Buffer.from('ANNOUNCE rtsp://h/s RTSP/1.0\r\nCSeq: 2\r\nContent-Length: 99999999999999999999\r\n\r\n')]);
    expect(items.map((i) => (i.type === 'error' ? i.code : i.type))).toEqual(['E_TOO_LARGE']);
  });

  it('refuses too many headers', () => {
    const headers = Array.from({ length: 5 }, (_, i) => `X-H${i}: v\r\n`).join('');
    const req = Buffer.from(`OPTIONS * RTSP/1.0\r\nCSeq: 1\r\n${headers}\r\n`);
    expect(decodeAll([req], { maxHeaders: 6 }).map((i) => i.type)).toEqual(['request']);
    expect(decodeAll([req], { maxHeaders: 5 }).map((i) => (i.type === 'error' ? i.code : i.type))).toEqual(['E_TOO_MANY_HEADERS']);
  });

  it.each([
    ['binary garbage', Buffer.from([0x00, 0x01, 0x02])],
    ['a bad request line', Buffer.from('HELLO\r\n\r\n')],
    ['an HTTP request', Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a negative Content-Length', Buffer.from('ANNOUNCE rtsp://h/s RTSP/1.0\r\nContent-Length: -5\r\n\r\n')],
    ['a header without a colon', Buffer.from('OPTIONS * RTSP/1.0\r\nCSeq 1\r\n\r\n')],
  ])('reports E_MALFORMED for %s and then stops', (_name, bytes) => {
    const d = new RtspStreamDecoder();
    const items = d.push(bytes);
    expect(items.map((i) => (i.type === 'error' ? i.code : i.type))).toEqual(['E_MALFORMED']);
    expect(d.stopped).toBe(true);
    // Even a perfectly valid request afterwards is ignored: the connection is to be closed.
    expect(d.push(Buffer.from(FFMPEG_OPTIONS))).toEqual([]);
  });

  it('reports requests that came before an error in the same push', () => {
    const items = decodeAll([Buffer.concat([Buffer.from(FFMPEG_OPTIONS), Buffer.from([0xff])])]);
    expect(items.map((i) => i.type)).toEqual(['request', 'error']);
  });

  it('stops mid-chunk when the callback calls close()', () => {
    const d = new RtspStreamDecoder();
    const seen: DecodedItem[] = [];
    const wire = Buffer.concat([interleaved(0, rtpPacket(1)), interleaved(0, rtpPacket(2)), interleaved(0, rtpPacket(3))]);
    d.feed(wire, (item) => {
      seen.push(item);
      d.close();
    });
    expect(seen).toHaveLength(1);
    expect(d.stopped).toBe(true);
    expect(d.failed).toBeUndefined();
  });

  it('rejects nonsensical bounds', () => {
    expect(() => new RtspStreamDecoder({ maxRequestBytes: 0 })).toThrow(RangeError);
    expect(() => new RtspStreamDecoder({ maxHeaders: 1.5 })).toThrow(RangeError);
  });
});

// ── Properties ──────────────────────────────────────────────────────────────────────────────────────────

const methodArb = fc.constantFrom('OPTIONS', 'DESCRIBE', 'SETUP', 'PLAY', 'PAUSE', 'GET_PARAMETER', 'TEARDOWN', 'ANNOUNCE', 'RECORD');
const requestArb = fc
  .record({
    method: methodArb,
    path: fc.stringMatching(/^[a-z0-9/_-]{1,20}$/),
    cseq: fc.nat(100000),
    extra: fc.array(fc.tuple(fc.stringMatching(/^X-[A-Za-z]{1,8}$/), fc.stringMatching(/^[ -~]{0,30}$/)), { maxLength: 4 }),
    body: fc.uint8Array({ maxLength: 300 }),
    lfOnly: fc.boolean(),
  })
  .map(({ method, path, cseq, extra, body, lfOnly }) => {
    const eol = lfOnly ? '\n' : '\r\n';
    let head = `${method} rtsp://example.com/${path} RTSP/1.0${eol}CSeq: ${cseq}${eol}`;
    for (const [k, v] of extra) head += `${k}: ${v}${eol}`;
    if (body.length > 0) head += `Content-Length: ${body.length}${eol}`;
    return Buffer.concat([Buffer.from(head + eol), Buffer.from(body)]);
  });
const frameArb = fc
  .record({ channel: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 1500 }) })
  .map(({ channel, payload }) => interleaved(channel, Buffer.from(payload)));
const streamArb = fc.array(fc.oneof(requestArb, frameArb, frameArb), { minLength: 1, maxLength: 12 }).map((parts) => Buffer.concat(parts));

/** Cuts buf at the given positions (taken modulo its length). */
function cut(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => (buf.length === 0 ? 0 : c % buf.length)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('RtspStreamDecoder properties', () => {
  it('arbitrary chunking of a valid stream yields the same items as one push, and no error', () => {
    fc.assert(
      fc.property(streamArb, fc.array(fc.nat(), { maxLength: 20 }), (stream, cuts) => {
        const whole = plain(decodeAll([stream]));
        expect(whole.some((i) => (i as { type: string }).type === 'error')).toBe(false);
        expect(plain(decodeAll(cut(stream, cuts)))).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('decodes generated frames back to exactly their channels and payloads', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ channel: fc.integer({ min: 0, max: 255 }), payload: fc.uint8Array({ maxLength: 2000 }) }), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        (frames, cuts) => {
          const wire = Buffer.concat(frames.map((f) => interleaved(f.channel, Buffer.from(f.payload))));
          const got = plain(decodeAll(cut(wire, cuts)));
          expect(got).toEqual(frames.map((f) => ({ type: 'frame', channel: f.channel, payload: Buffer.from(f.payload).toString('hex') })));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('never throws on random bytes; an error is always the last item; chunking does not matter', () => {
    const opts = { maxRequestBytes: 1024, maxHeaders: 8 };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
        const buf = Buffer.from(bytes);
        const items = decodeAll(cut(buf, cuts), opts);
        const errors = items.filter((i) => i.type === 'error');
        expect(errors.length).toBeLessThanOrEqual(1);
        if (errors.length === 1) expect(items[items.length - 1].type).toBe('error');
        expect(plain(items)).toEqual(plain(decodeAll([buf], opts)));
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on mutated real requests, and decodes them the same however they are cut', () => {
    const base = FFMPEG_ANNOUNCE + FFMPEG_SETUP_TCP;
    fc.assert(
      fc.property(fc.nat(base.length - 1), fc.string({ maxLength: 10 }), fc.nat(), (at, insert, cutAt) => {
        const bytes = Buffer.from(base.slice(0, at) + insert + base.slice(at + 1));
        expect(plain(decodeAll(cut(bytes, [cutAt])))).toEqual(plain(decodeAll([bytes])));
      }),
      { numRuns: 500 },
    );
  });
});
