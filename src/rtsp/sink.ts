/**
 * Where a reader's packets go. A TCP reader is a byte sink (its socket) with the interleaved channel it chose for
 * each track's RTP and RTCP; packets for it are queued during one batch (one publisher read) and written with one
 * cork/uncork, so one socket write carries many packets. A reader whose socket queue passes the bound is dropped.
 * A UDP reader gets each packet sent to its client port from the server's shared reader pair (the same buffer for
 * every reader).
 *
 * Slots: track i's RTP is slot 2i, its RTCP slot 2i+1.
 */
import type { UdpPair } from './udp.js';

/** The part of a socket the fan-out uses; net.Socket (and any stream.Writable) has it. */
export interface ByteSink {
  write(chunk: Buffer): boolean;
  cork(): void;
  uncork(): void;
  readonly writableLength: number;
  readonly destroyed: boolean;
}

export class TcpSink {
  readonly kind = 'tcp' as const;
  /** Interleaved channel per slot; -1 when the reader did not set that track up. */
  readonly channels: Int16Array;
  /** Buffers queued in the current batch (shared with other readers; never modified). */
  readonly pending: Buffer[] = [];
  bytesOut = 0;
  /** Set once the queue bound was passed; the stream stops writing to it and tells its owner. */
  dropped = false;

  constructor(
    readonly out: ByteSink,
    slots: number,
    readonly maxQueueBytes: number,
    /** Called (outside any fan-out loop) when the reader is dropped for being too slow. */
    readonly onDrop: (sink: TcpSink) => void,
  ) {
    this.channels = new Int16Array(slots).fill(-1);
  }

  setTrack(track: number, rtp: number, rtcp: number): void {
    this.channels[2 * track] = rtp;
    this.channels[2 * track + 1] = rtcp;
  }

  /** True when channel c is used by any slot. */
  usesChannel(c: number): boolean {
    return this.channels.includes(c);
  }

  /** Writes what the batch queued; false when the socket's queue is now past the bound (drop the reader). */
  flush(): boolean {
    const p = this.pending;
    const n = p.length;
    if (n === 0) return true;
    const out = this.out;
    if (out.destroyed || this.dropped) {
      p.length = 0;
      return true;
    }
    let bytes = 0;
    if (n === 1) {
      out.write(p[0]);
      bytes = p[0].length;
    } else {
      out.cork();
      for (let i = 0; i < n; i++) {
        out.write(p[i]);
        bytes += p[i].length;
      }
      out.uncork();
    }
    p.length = 0;
    this.bytesOut += bytes;
    return out.writableLength <= this.maxQueueBytes;
  }
}

export class UdpSink {
  readonly kind = 'udp' as const;
  /** Client port per slot; 0 when not set up. */
  readonly ports: Int32Array;
  bytesOut = 0;

  constructor(readonly pair: UdpPair, readonly address: string, slots: number) {
    this.ports = new Int32Array(slots);
  }

  setTrack(track: number, rtpPort: number, rtcpPort: number): void {
    this.ports[2 * track] = rtpPort;
    this.ports[2 * track + 1] = rtcpPort;
  }

  /**
   * An RTCP packet of the server's own (a BYE) to the viewer's RTCP port for `track`, if it set that track up.
   * Resolves once the datagram is handed to the kernel; undefined when nothing was sent.
   */
  sendRtcp(track: number, packet: Buffer): Promise<void> | undefined {
    const port = this.ports[2 * track + 1];
    if (port === 0 || this.pair.isClosed) return undefined;
    return new Promise((resolve) => this.pair.rtcp.send(packet, port, this.address, () => resolve()));
  }

  send(slot: number, payload: Buffer): void {
    const port = this.ports[slot];
    if (port === 0 || this.pair.isClosed) return;
    (slot & 1 ? this.pair.rtcp : this.pair.rtp).send(payload, port, this.address);
    this.bytesOut += payload.length;
  }
}

export type Sink = TcpSink | UdpSink;
