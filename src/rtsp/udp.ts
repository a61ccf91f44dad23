/**
 * UDP transport: RTP/RTCP socket pairs (RTP on an even port, RTCP on the next one) taken from the configured range
 * (`rtsp.udpPorts`). The server holds one shared pair for every UDP reader (it sends from it and hears their RTCP
 * receiver reports on it, told apart by source address), and each UDP publisher track gets a pair of its own, so its
 * packets are told apart by the port they arrive on and never by a guess about the client's address.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';

export type DatagramHandler = (msg: Buffer, rinfo: RemoteInfo) => void;

export class UdpPair {
  onRtp: DatagramHandler | undefined;
  onRtcp: DatagramHandler | undefined;
  private closed = false;

  constructor(
    readonly rtp: Socket,
    readonly rtcp: Socket,
    readonly rtpPort: number,
    private readonly release: (pair: UdpPair) => void,
  ) {
    rtp.on('message', (m, r) => this.onRtp?.(m, r));
    rtcp.on('message', (m, r) => this.onRtcp?.(m, r));
    // A send to a closed client port comes back as ICMP; nothing to do about it but not crash.
    rtp.on('error', () => {});
    rtcp.on('error', () => {});
  }

  get rtcpPort(): number {
    return this.rtpPort + 1;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.onRtp = this.onRtcp = undefined;
    this.rtp.close();
    this.rtcp.close();
    this.release(this);
  }
}

/** Hands out RTP/RTCP port pairs from [min, max], round robin, skipping ports something else holds. */
export class UdpPortPool {
  private readonly inUse = new Set<number>();
  private cursor: number;
  private readonly first: number;
  private readonly last: number;

  constructor(min: number, max: number, private readonly host: string) {
    this.first = min % 2 === 0 ? min : min + 1;
    this.last = max;
    this.cursor = this.first;
    if (this.first + 1 > this.last) throw new RangeError(`port range ${min}-${max} holds no RTP/RTCP pair`);
  }

  /** How many pairs the range holds. */
  get capacity(): number {
    return Math.floor((this.last - this.first + 1) / 2);
  }

  get allocated(): number {
    return this.inUse.size;
  }

  /** Binds the next free pair; rejects when every pair of the range is taken. */
  async allocate(): Promise<UdpPair> {
    const tries = this.capacity;
    for (let i = 0; i < tries; i++) {
      const port = this.cursor;
      this.cursor = this.cursor + 2 + 1 > this.last ? this.first : this.cursor + 2;
      if (this.inUse.has(port)) continue;
      this.inUse.add(port);
      const pair = await this.bindPair(port);
      if (pair) return pair;
      this.inUse.delete(port);
    }
    throw new Error(`no free UDP port pair in ${this.first}-${this.last}`);
  }

  private async bindPair(port: number): Promise<UdpPair | undefined> {
    const type = isIPv6(this.host) ? 'udp6' : 'udp4';
    const rtp = await bind(type, this.host, port);
    if (!rtp) return undefined;
    const rtcp = await bind(type, this.host, port + 1);
    if (!rtcp) {
      rtp.close();
      return undefined;
    }
    return new UdpPair(rtp, rtcp, port, (p) => this.inUse.delete(p.rtpPort));
  }
}

function bind(type: 'udp4' | 'udp6', host: string, port: number): Promise<Socket | undefined> {
  return new Promise((resolve) => {
    const s = createSocket({ type, reuseAddr: false });
    const fail = (): void => {
      s.close();
      resolve(undefined);
    };
    s.once('error', fail);
    s.bind(port, host, () => {
      s.off('error', fail);
      resolve(s);
    });
  });
}
