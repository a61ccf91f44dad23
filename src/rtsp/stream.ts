/**
 * A named media stream (live555's ServerMediaSession): one per path, built from the publisher's ANNOUNCE SDP, with
 * one Track (sub-session) per media section, the publisher, and the readers that reference it. It owns the fan-out:
 * the publisher's packets arrive once and go to every playing reader from the same buffers.
 *
 * live555's three lifecycle verbs are kept distinct:
 * - remove(): the name stops resolving, so no new reader (or publisher) can attach; everyone attached goes on;
 * - closeAllClientSessions(): every reader session is closed; the stream stays;
 * - delete(): both, and the publisher is let go too. A stream whose publisher left is deleted, as is a removed
 *   stream once it has neither publisher nor readers.
 *
 * Fan-out. For a TCP publisher, each interleaved frame lies, header and all, in the chunk the socket read. Readers
 * whose channel numbers are the publisher's (the usual case: both use 0-1, 2-3, …) are "run" readers: consecutive
 * frames of one read form one run, a view of the publisher's own bytes, and that single buffer is written to every
 * run reader — no copy, no per-packet work per reader. Other TCP readers are grouped by the channel they chose:
 * each packet is framed once per distinct channel (frameInterleaved) and that buffer goes to each of them. UDP
 * readers get the raw packet sent to their port. Writes to TCP readers are batched: a video frame arrives as a burst
 * of packets over one or more reads, and is written when its last packet (RTP marker bit) is in, or after
 * rtsp.writeCoalesceMs, or once 64 KiB are queued — one write per reader (cork/uncork: one writev system call).
 */
import { frameInterleaved, sdpForReaders, type SessionDescription } from './protocol/index.js';
import type { TcpSink, UdpSink } from './sink.js';
import { Track } from './track.js';

/** A session attached to a stream (publisher or reader); the stream closes it when the stream goes away. */
export interface StreamClient {
  close(reason: string): void;
}

export interface StreamOwner {
  /** The stream no longer answers to its name (identity-checked by the owner). */
  forget(stream: MediaStream): void;
}

export interface FanoutOptions {
  /**
   * Hold TCP readers' writes for up to this many ms, so that one socket write carries all the packets of a video
   * frame (publishers send a frame as a burst of packets, which arrive over several reads). 0 = write at the end of
   * every publisher read.
   */
  coalesceMs?: number;
  /** Write at once when this many bytes are held per reader (default 64 KiB). */
  coalesceBytes?: number;
  /** When the stream was created (ms); 0 when not given. */
  createdAt?: number;
}

export class MediaStream {
  readonly tracks: Track[];
  /** The SDP given to readers (controls rewritten to trackID=N), made once. */
  readonly readerSdp: string;
  publisher: StreamClient | undefined;
  readonly readers = new Set<StreamClient>();
  /** True once remove() ran: the name no longer resolves. */
  removed = false;
  /** True once delete() ran. */
  deleted = false;
  /** The publisher's interleaved channel per slot (track i: RTP 2i, RTCP 2i+1); -1 when none (UDP, not set up). */
  readonly inChannels: Int16Array;
  readonly createdAt: number;
  packetsIn = 0;
  bytesIn = 0;

  private runSinks: TcpSink[] = [];
  private packetSinks: TcpSink[] = [];
  private udpSinks: UdpSink[] = [];
  private batchDepth = 0;
  private readonly coalesceMs: number;
  private readonly coalesceBytes: number;
  private flushTimer: NodeJS.Timeout | undefined;
  /** Bytes queued for each reader since the last flush (an upper bound; readers on fewer tracks get less). */
  private queuedBytes = 0;
  /** An RTP packet with the marker bit (the last of a video frame) was queued since the last flush. */
  private frameEnded = false;
  // The run being collected: a byte range of one ArrayBuffer (a publisher read).
  private runBuffer: ArrayBufferLike | undefined;
  private runStart = 0;
  private runEnd = 0;
  // Per-packet framed buffers by output channel, for readers on other channels than the publisher's.
  private readonly frameCache: Array<Buffer | undefined> = new Array(256).fill(undefined);
  private readonly cacheUsed: number[] = [];

  constructor(readonly name: string, readonly sdp: SessionDescription, private readonly owner: StreamOwner, opts: FanoutOptions = {}) {
    this.createdAt = opts.createdAt ?? 0;
    this.coalesceMs = opts.coalesceMs ?? 0;
    this.coalesceBytes = opts.coalesceBytes ?? 64 * 1024;
    this.tracks = sdp.media.map((m, i) => new Track(i, m));
    this.readerSdp = sdpForReaders(sdp);
    this.inChannels = new Int16Array(this.tracks.length * 2).fill(-1);
  }

  get slots(): number {
    return this.tracks.length * 2;
  }

  /** live555's reference count: the readers attached. */
  get referenceCount(): number {
    return this.readers.size;
  }

  get playing(): number {
    return this.runSinks.length + this.packetSinks.length + this.udpSinks.length;
  }

  // ── lifecycle ─────────────────────────────────────────────────────────────────────────────

  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.owner.forget(this);
  }

  closeAllClientSessions(reason: string): void {
    for (const r of [...this.readers]) r.close(reason);
  }

  delete(reason: string): void {
    if (this.deleted) return;
    this.deleted = true;
    this.remove();
    this.closeAllClientSessions(reason);
    const p = this.publisher;
    this.publisher = undefined;
    p?.close(reason);
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.runSinks = [];
    this.packetSinks = [];
    this.udpSinks = [];
  }

  /** Attaches a reader (reference count + 1); false when the stream was removed. */
  addReader(c: StreamClient): boolean {
    if (this.removed) return false;
    this.readers.add(c);
    return true;
  }

  removeReader(c: StreamClient, sink?: TcpSink | UdpSink): void {
    if (sink) this.stopPlaying(sink);
    if (!this.readers.delete(c)) return;
    if (this.removed && this.readers.size === 0 && this.publisher === undefined) this.delete('unreferenced');
  }

  setPublisher(c: StreamClient): void {
    this.publisher = c;
  }

  /** The publisher went away: the stream ends for everyone. */
  publisherLeft(c: StreamClient, reason: string): void {
    if (this.publisher !== c) return;
    this.publisher = undefined;
    this.delete(reason);
  }

  /** The publisher's interleaved channel for a slot (TCP publishers); readers are re-sorted accordingly. */
  setInChannel(slot: number, channel: number): void {
    this.inChannels[slot] = channel;
    const all = [...this.runSinks, ...this.packetSinks];
    this.runSinks = [];
    this.packetSinks = [];
    for (const s of all) this.classify(s);
  }

  // ── readers playing ─────────────────────────────────────────────────────────────────────────

  startPlaying(sink: TcpSink | UdpSink): void {
    if (this.deleted) return;
    this.stopPlaying(sink);
    if (sink.kind === 'udp') this.udpSinks.push(sink);
    else this.classify(sink);
  }

  stopPlaying(sink: TcpSink | UdpSink): void {
    if (sink.kind === 'udp') this.udpSinks = without(this.udpSinks, sink);
    else {
      this.runSinks = without(this.runSinks, sink);
      this.packetSinks = without(this.packetSinks, sink);
      sink.pending.length = 0;
    }
  }

  /** How a TCP reader is served: "run" when its channels are exactly the publisher's. */
  isRunReader(sink: TcpSink): boolean {
    return this.runSinks.includes(sink);
  }

  private classify(sink: TcpSink): void {
    let same = false;
    for (let i = 0; i < this.inChannels.length; i++) {
      if (sink.channels[i] !== this.inChannels[i]) {
        same = false;
        break;
      }
      if (this.inChannels[i] >= 0) same = true;
    }
    (same ? this.runSinks : this.packetSinks).push(sink);
  }

  // ── fan-out ─────────────────────────────────────────────────────────────────────────────────

  /** Opens a batch: packets forwarded until the matching endBatch() are written with one write per reader. */
  beginBatch(): void {
    this.batchDepth++;
  }

  endBatch(): void {
    if (--this.batchDepth > 0) return;
    this.batchDepth = 0;
    this.flushRun();
    // Hold the writes while a frame is incomplete: flush when a packet with the RTP marker bit (end of an access
    // unit) came, when enough is queued, or when the timer runs out.
    if (this.coalesceMs > 0 && !this.frameEnded && this.queuedBytes < this.coalesceBytes) {
      this.flushTimer ??= setTimeout(this.flush, this.coalesceMs);
      return;
    }
    this.flush();
  }

  /** Writes what every TCP reader has queued (one write each), then drops the ones past their queue bound. */
  readonly flush = (): void => {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    this.queuedBytes = 0;
    this.frameEnded = false;
    let drops: TcpSink[] | undefined;
    for (const list of [this.runSinks, this.packetSinks]) {
      for (let i = 0; i < list.length; i++) {
        const s = list[i];
        if (!s.flush() && !s.dropped) {
          s.dropped = true;
          (drops ??= []).push(s);
        }
      }
    }
    if (drops) {
      for (const s of drops) {
        this.stopPlaying(s);
        s.onDrop(s);
      }
    }
  };

  /** A packet from a UDP publisher (one datagram); TCP readers get it with the next flush. */
  forwardDatagram(slot: number, payload: Buffer): void {
    this.beginBatch();
    this.forward(slot, payload, -1);
    this.endBatch();
  }

  /**
   * One packet of the publisher. `framedAt` is the byte offset, in payload.buffer, of its interleaved header when
   * that header sits right before the payload in the same read (the publisher's own framing can then be written
   * as is); -1 otherwise.
   */
  forward(slot: number, payload: Buffer, framedAt: number): void {
    if (this.batchDepth === 0) {
      this.beginBatch();
      this.forward(slot, payload, framedAt);
      this.endBatch();
      return;
    }
    this.packetsIn++;
    this.bytesIn += payload.length;
    this.queuedBytes += payload.length + 4;
    if ((slot & 1) === 0) {
      this.tracks[slot >> 1].noteRtp(payload);
      if (payload.length > 1 && (payload[1] & 0x80) !== 0) this.frameEnded = true;
    }

    const inCh = this.inChannels[slot];
    if (this.runSinks.length > 0) {
      if (framedAt >= 0) {
        if (payload.buffer === this.runBuffer && framedAt === this.runEnd) {
          this.runEnd = payload.byteOffset + payload.length;
        } else {
          this.flushRun();
          this.runBuffer = payload.buffer;
          this.runStart = framedAt;
          this.runEnd = payload.byteOffset + payload.length;
        }
      } else {
        // A frame that was split across reads was reassembled: frame it once for every run reader.
        this.flushRun();
        const b = frameInterleaved(inCh, payload);
        for (let i = 0; i < this.runSinks.length; i++) this.runSinks[i].pending.push(b);
      }
    }

    const ps = this.packetSinks;
    if (ps.length > 0) {
      const cache = this.frameCache;
      for (let i = 0; i < ps.length; i++) {
        const s = ps[i];
        const ch = s.channels[slot];
        if (ch < 0) continue;
        let b = cache[ch];
        if (b === undefined) {
          b = framedAt >= 0 && ch === inCh ? Buffer.from(payload.buffer, framedAt, payload.length + 4) : frameInterleaved(ch, payload);
          cache[ch] = b;
          this.cacheUsed.push(ch);
        }
        s.pending.push(b);
      }
      for (const ch of this.cacheUsed) cache[ch] = undefined;
      this.cacheUsed.length = 0;
    }

    const us = this.udpSinks;
    for (let i = 0; i < us.length; i++) us[i].send(slot, payload);
  }

  private flushRun(): void {
    if (this.runBuffer === undefined) return;
    const run = Buffer.from(this.runBuffer, this.runStart, this.runEnd - this.runStart);
    this.runBuffer = undefined;
    const rs = this.runSinks;
    for (let i = 0; i < rs.length; i++) rs[i].pending.push(run);
  }
}

/**
 * Where the header of an interleaved frame sits, if it sits right before the payload inside `chunk` (the read the
 * decoder handed the payload from): its offset in chunk.buffer, else -1. Exact: the four bytes are checked.
 */
export function framedOffset(chunk: Buffer, payload: Buffer, channel: number): number {
  if (payload.buffer !== chunk.buffer) return -1;
  const at = payload.byteOffset - 4;
  if (at < chunk.byteOffset) return -1;
  const i = at - chunk.byteOffset;
  const n = payload.length;
  return chunk[i] === 0x24 && chunk[i + 1] === channel && chunk[i + 2] === n >> 8 && chunk[i + 3] === (n & 0xff) ? at : -1;
}

function without<T>(list: T[], x: T): T[] {
  const i = list.indexOf(x);
  if (i === -1) return list;
  const out = list.slice();
  out.splice(i, 1);
  return out;
}
