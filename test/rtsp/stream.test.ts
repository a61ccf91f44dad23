/**
 * Media streams (live555's ServerMediaSession): the catalogue, remove / closeAllClientSessions / delete, reference
 * counts, and the fan-out path (run readers get the publisher's own bytes, other channels are framed once, a reader
 * that stops reading is dropped while the others keep receiving).
 */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseSdp, frameInterleaved } from '../../src/rtsp/protocol/index.js';
import { TcpSink } from '../../src/rtsp/sink.js';
import { StreamCatalogue } from '../../src/rtsp/catalogue.js';
import { framedOffset, type MediaStream, type StreamClient } from '../../src/rtsp/stream.js';
import { SessionState, checkState } from '../../src/rtsp/session.js';
import { waitFor } from '../helpers/usher.js';
import { rtp, SDP_H264_AAC } from './client.js';

const sdp = (): ReturnType<typeof parseSdp> & { ok: true } => {
  const r = parseSdp(SDP_H264_AAC);
  if (!r.ok) throw new Error(r.message);
  return r;
};

class Client implements StreamClient {
  closedWith: string | undefined;
  constructor(private readonly onClose?: (c: Client) => void) {}
  close(reason: string): void {
    if (this.closedWith !== undefined) return;
    this.closedWith = reason;
    this.onClose?.(this);
  }
}

/** A real Writable that keeps what it gets; `stalled` ones never finish a write (a reader that stopped reading). */
class Out extends Writable {
  readonly got: Buffer[] = [];
  writes = 0;
  constructor(readonly stalled = false) {
    super({ highWaterMark: 16 });
  }
  override _write(chunk: Buffer, _e: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.writes++;
    this.got.push(chunk);
    if (!this.stalled) cb();
  }
  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.writes++;
    for (const c of chunks) this.got.push(c.chunk);
    if (!this.stalled) cb();
  }
  bytes(): Buffer {
    return Buffer.concat(this.got);
  }
}

function streamWithPublisher(cat = new StreamCatalogue()): { cat: StreamCatalogue; st: MediaStream; pub: Client } {
  const st = cat.create('live/demo', sdp().sdp);
  const pub = new Client((c) => st.publisherLeft(c, 'publisher left'));
  st.setPublisher(pub);
  return { cat, st, pub };
}

describe('stream catalogue and lifecycle', () => {
  it('lists a stream by name, one per name, with a track per SDP media', () => {
    const { cat, st } = streamWithPublisher();
    expect(cat.lookup('live/demo')).toBe(st);
    expect(st.tracks.map((t) => t.control)).toEqual(['trackID=0', 'trackID=1']);
    expect(st.readerSdp).toContain('a=control:trackID=1');
    expect(st.readerSdp).not.toContain('streamid=');
    expect(() => cat.create('live/demo', sdp().sdp)).toThrow();
  });

  it('counts readers as references', () => {
    const { st } = streamWithPublisher();
    const a = new Client();
    const b = new Client();
    expect(st.addReader(a)).toBe(true);
    expect(st.addReader(b)).toBe(true);
    expect(st.referenceCount).toBe(2);
    st.removeReader(a);
    expect(st.referenceCount).toBe(1);
    st.removeReader(a);
    expect(st.referenceCount).toBe(1);
  });

  it('remove(): the name stops resolving, no new readers, the attached ones and the publisher go on', () => {
    const { cat, st, pub } = streamWithPublisher();
    const a = new Client();
    st.addReader(a);
    st.remove();
    expect(cat.lookup('live/demo')).toBeUndefined();
    expect(st.addReader(new Client())).toBe(false);
    expect(a.closedWith).toBeUndefined();
    expect(pub.closedWith).toBeUndefined();
    expect(st.deleted).toBe(false);
    // the name is free for a new stream while the old one still runs
    const st2 = cat.create('live/demo', sdp().sdp);
    expect(cat.lookup('live/demo')).toBe(st2);
    // forgetting the old one again does not drop the new one (identity-checked)
    cat.forget(st);
    expect(cat.lookup('live/demo')).toBe(st2);
  });

  it('closeAllClientSessions(): every reader is closed, the stream and its publisher stay', () => {
    const { cat, st, pub } = streamWithPublisher();
    const live = [1, 2, 3].map(() => new Client((c) => st.removeReader(c)));
    for (const r of live) st.addReader(r);
    expect(st.referenceCount).toBe(3);
    st.closeAllClientSessions('closing');
    expect(live.map((r) => r.closedWith)).toEqual(['closing', 'closing', 'closing']);
    expect(st.referenceCount).toBe(0);
    expect(pub.closedWith).toBeUndefined();
    expect(cat.lookup('live/demo')).toBe(st);
    expect(st.addReader(new Client())).toBe(true);
  });

  it('delete(): remove + close all + the publisher is let go', () => {
    const { cat, st, pub } = streamWithPublisher();
    const r = new Client((c) => st.removeReader(c));
    st.addReader(r);
    st.delete('bye');
    expect(cat.lookup('live/demo')).toBeUndefined();
    expect(r.closedWith).toBe('bye');
    expect(pub.closedWith).toBe('bye');
    expect(st.deleted).toBe(true);
    expect(st.referenceCount).toBe(0);
  });

  it('the publisher leaving deletes the stream and ends its readers', () => {
    const { cat, st, pub } = streamWithPublisher();
    const r = new Client((c) => st.removeReader(c));
    st.addReader(r);
    pub.close('publisher gone');
    expect(st.deleted).toBe(true);
    expect(r.closedWith).toBe('publisher left');
    expect(cat.size).toBe(0);
  });

  it('a removed stream with no publisher is deleted when its last reader goes', () => {
    const cat = new StreamCatalogue();
    const st = cat.create('live/x', sdp().sdp);
    const a = new Client();
    const b = new Client();
    st.addReader(a);
    st.addReader(b);
    st.remove();
    st.removeReader(a);
    expect(st.deleted).toBe(false);
    st.removeReader(b);
    expect(st.deleted).toBe(true);
  });
});

describe('session state checks', () => {
  it('answers 455 outside the allowed states', () => {
    expect(checkState(SessionState.Initial, [SessionState.PrePlay, SessionState.Play])?.status).toBe(455);
    expect(checkState(SessionState.PreRecord, [SessionState.PrePlay])?.message).toContain('PreRecord');
    expect(checkState(SessionState.Play, [SessionState.PrePlay, SessionState.Play])).toBeUndefined();
  });
});

describe('fan-out', () => {
  /** A publisher read: several interleaved frames in one chunk, as a TCP publisher's socket delivers them. */
  function chunkOf(frames: Array<[number, Buffer]>): Buffer {
    return Buffer.concat(frames.map(([ch, p]) => frameInterleaved(ch, p)));
  }

  /** Feeds a chunk the way a publisher connection does: one batch, each frame with its offset in the chunk. */
  function feed(st: MediaStream, chunk: Buffer, map: Record<number, number>): void {
    st.beginBatch();
    let pos = 0;
    while (pos < chunk.length) {
      const ch = chunk[pos + 1];
      const n = chunk.readUInt16BE(pos + 2);
      const payload = chunk.subarray(pos + 4, pos + 4 + n);
      st.forward(map[ch], payload, framedOffset(chunk, payload, ch));
      pos += 4 + n;
    }
    st.endBatch();
  }

  function setup(): { st: MediaStream } {
    const { st } = streamWithPublisher();
    for (const [slot, ch] of [[0, 0], [1, 1], [2, 2], [3, 3]]) st.setInChannel(slot, ch);
    return { st };
  }

  it('readers on the publisher\'s channels get its own bytes, one write per batch', () => {
    const { st } = setup();
    const outs = [new Out(), new Out(), new Out()];
    const sinks = outs.map((o) => {
      const s = new TcpSink(o, st.slots, 1 << 20, () => {});
      s.setTrack(0, 0, 1);
      s.setTrack(1, 2, 3);
      st.startPlaying(s);
      return s;
    });
    expect(sinks.every((s) => st.isRunReader(s))).toBe(true);
    const chunk = chunkOf([[0, rtp(1)], [0, rtp(2)], [1, Buffer.from('rtcp-sr')], [2, rtp(7, 5, 50, 97)]]);
    feed(st, chunk, { 0: 0, 1: 1, 2: 2, 3: 3 });
    for (const o of outs) {
      expect(o.bytes().equals(chunk)).toBe(true);
      expect(o.writes).toBe(1);
      // the very bytes of the publisher's read: no copy
      expect(o.got[0].buffer).toBe(chunk.buffer);
    }
    expect(st.tracks[0].lastSeq).toBe(2);
    expect(st.tracks[1].lastSeq).toBe(7);
    expect(st.tracks[0].rtpInfo('u')).toEqual({ url: 'u', seq: 3, rtptime: 1000 });
  });

  it('readers on other channels get each packet framed once per channel, shared between them', () => {
    const { st } = setup();
    const a = new Out();
    const b = new Out();
    const videoOnly = new Out();
    const mk = (o: Out, v: [number, number], au?: [number, number]): TcpSink => {
      const s = new TcpSink(o, st.slots, 1 << 20, () => {});
      s.setTrack(0, ...v);
      if (au) s.setTrack(1, ...au);
      st.startPlaying(s);
      return s;
    };
    const sa = mk(a, [4, 5], [6, 7]);
    mk(b, [4, 5], [6, 7]);
    const sv = mk(videoOnly, [0, 1]);
    expect(st.isRunReader(sa)).toBe(false);
    expect(st.isRunReader(sv)).toBe(false);
    const p1 = rtp(10);
    const p2 = rtp(11, 2000, 30, 97);
    feed(st, chunkOf([[0, p1], [2, p2]]), { 0: 0, 2: 2 });
    expect(a.bytes().equals(chunkOf([[4, p1], [6, p2]]))).toBe(true);
    expect(b.bytes().equals(a.bytes())).toBe(true);
    // the framed buffers are the same objects for both readers
    expect(a.got[0]).toBe(b.got[0]);
    expect(videoOnly.bytes().equals(chunkOf([[0, p1]]))).toBe(true);
  });

  it('a frame reassembled from two reads is framed once for the run readers, in order', () => {
    const { st } = setup();
    const o = new Out();
    const s = new TcpSink(o, st.slots, 1 << 20, () => {});
    s.setTrack(0, 0, 1);
    s.setTrack(1, 2, 3);
    st.startPlaying(s);
    const p1 = rtp(1);
    const p2 = rtp(2);
    const p3 = rtp(3);
    const c1 = chunkOf([[0, p1]]);
    st.beginBatch();
    st.forward(0, c1.subarray(4), framedOffset(c1, c1.subarray(4), 0));
    st.forward(0, Buffer.from(p2), -1); // reassembled: its header is not before it
    const c3 = chunkOf([[0, p3]]);
    st.forward(0, c3.subarray(4), framedOffset(c3, c3.subarray(4), 0));
    st.endBatch();
    expect(o.bytes().equals(chunkOf([[0, p1], [0, p2], [0, p3]]))).toBe(true);
  });

  it('drops a reader whose queue passes the bound; the others keep receiving and the publisher never waits', () => {
    const { st } = setup();
    const bound = 64 * 1024;
    const slow = new Out(true);
    const fast = new Out();
    const dropped: TcpSink[] = [];
    const mk = (o: Out): TcpSink => {
      const s = new TcpSink(o, st.slots, bound, (x) => dropped.push(x));
      s.setTrack(0, 0, 1);
      s.setTrack(1, 2, 3);
      st.startPlaying(s);
      return s;
    };
    const sSlow = mk(slow);
    const sFast = mk(fast);
    const sent: Buffer[] = [];
    for (let i = 0; i < 200; i++) {
      const c = chunkOf([[0, rtp(i, i, 1400)], [0, rtp(i + 1000, i, 1400)]]);
      sent.push(c);
      feed(st, c, { 0: 0 });
    }
    expect(dropped).toEqual([sSlow]);
    expect(sSlow.dropped).toBe(true);
    // it got roughly the bound and then nothing more
    expect(slow.writableLength).toBeGreaterThan(bound);
    expect(slow.writableLength).toBeLessThan(bound + 2 * 2900);
    expect(st.playing).toBe(1);
    expect(fast.bytes().equals(Buffer.concat(sent))).toBe(true);
    expect(sFast.bytesOut).toBe(Buffer.concat(sent).length);
  });

  it('framedOffset finds a header only where it really is', () => {
    const c = chunkOf([[3, rtp(1)]]);
    expect(framedOffset(c, c.subarray(4), 3)).toBe(c.byteOffset);
    expect(framedOffset(c, c.subarray(4), 2)).toBe(-1);
    expect(framedOffset(c.subarray(2), c.subarray(4), 3)).toBe(-1);
    expect(framedOffset(c, Buffer.from(c.subarray(4)), 3)).toBe(-1);
  });

  it('holds writes until a frame is complete (marker bit) or the coalescing time runs out', async () => {
    const cat = new StreamCatalogue({ coalesceMs: 30 });
    const st = cat.create('live/c', sdp().sdp);
    st.setPublisher(new Client());
    for (const [slot, ch] of [[0, 0], [1, 1], [2, 2], [3, 3]]) st.setInChannel(slot, ch);
    const o = new Out();
    const s = new TcpSink(o, st.slots, 1 << 20, () => {});
    s.setTrack(0, 0, 1);
    st.startPlaying(s);
    const withMarker = (seq: number): Buffer => {
      const p = rtp(seq);
      p[1] |= 0x80;
      return p;
    };
    feed(st, chunkOf([[0, rtp(1)], [0, rtp(2)]]), { 0: 0 });
    expect(o.writes).toBe(0); // mid-frame: held
    feed(st, chunkOf([[0, rtp(3)], [0, withMarker(4)]]), { 0: 0 });
    expect(o.writes).toBe(1); // frame complete: both reads in one write
    expect(o.bytes().equals(chunkOf([[0, rtp(1)], [0, rtp(2)], [0, rtp(3)], [0, withMarker(4)]]))).toBe(true);
    feed(st, chunkOf([[0, rtp(5)]]), { 0: 0 });
    expect(o.writes).toBe(1);
    await waitFor(() => o.writes === 2); // the timer wrote the tail
    expect(o.bytes().subarray(-rtp(5).length).equals(rtp(5))).toBe(true);
    st.delete('done');
  });
});
