/**
 * An RTSP session (RFC 2326 §3): created by ANNOUNCE (publisher) or the first SETUP (reader), named by the id in the
 * Session header, with an explicit state machine (gortsplib's ServerSessionState). Over TCP interleaving it lives and
 * dies with its connection; over UDP it may outlive the connection, until TEARDOWN, a kick or the idle timeout.
 *
 * Each RTSP session is one Usher client: its clientId (`rtsp-<id>`) is what the admission was made with and what the
 * registry kicks, and its end is reported to the registry exactly once.
 */
import type { RtspConn } from './conn.js';
import { framedOffset, type MediaStream, type StreamClient } from './stream.js';
import type { TcpSink, UdpSink } from './sink.js';
import type { UdpPair } from './udp.js';

export enum SessionState {
  Initial,
  PrePlay,
  Play,
  PreRecord,
  Record,
}

export function stateName(s: SessionState): string {
  return SessionState[s];
}

/** 455 when `state` is not one of `allowed`, else undefined (gortsplib's checkState). */
export function checkState(state: SessionState, allowed: readonly SessionState[]): { status: 455; message: string } | undefined {
  if (allowed.includes(state)) return undefined;
  return { status: 455, message: `method not valid in state ${stateName(state)} (allowed: ${allowed.map(stateName).join(', ')})` };
}

/** What admission said about a client, kept from the request that asked until the client goes. */
export interface Ticket {
  clientId: string;
  /** Usher's session id; undefined when the kind is not tracked (mode 0). */
  sessionId: string | undefined;
  /** The request joined a live Usher session (same key) rather than starting one. */
  joined: boolean;
  /** Stream name it was admitted for. */
  stream: string;
  /** Token the admission saw, to tell a repeated DESCRIBE with other credentials apart. */
  credential: string;
}

/** What a session needs from the server that holds it. */
export interface SessionHost {
  readonly now: number;
  /** The session ended; its connection is closed too unless keepConnection (TEARDOWN, a refused SETUP). */
  sessionClosed(s: RtspSession, reason: string, keepConnection: boolean): void;
}

export type Role = 'reader' | 'publisher';

export class RtspSession implements StreamClient {
  state = SessionState.Initial;
  /** The control connection; undefined while a UDP session has none. */
  conn: RtspConn | undefined;
  stream: MediaStream | undefined;
  transport: 'TCP' | 'UDP' | undefined;
  lastActivity: number;
  closed = false;
  closeReason: string | undefined;
  /** Set by a kick: the registry already knows, so the end is not reported back to it. */
  kicked = false;

  // reader
  sink: TcpSink | UdpSink | undefined;
  /** The URL each track was set up with (RTP-Info must repeat it exactly). */
  readonly setupUrls: Array<string | undefined> = [];
  /** `address:rtcpPort` keys under which the server finds this UDP reader's RTCP. */
  readonly udpKeys: string[] = [];

  // publisher
  /** Interleaved channel → slot (track*2 + rtcp); -1 for channels not set up. */
  readonly inMap = new Int16Array(256).fill(-1);
  readonly udpPairs: UdpPair[] = [];
  bytesIn = 0;

  constructor(
    readonly id: string,
    readonly role: Role,
    readonly ticket: Ticket,
    /** The client's address; UDP packets from elsewhere are ignored. */
    readonly ip: string,
    private readonly host: SessionHost,
  ) {
    this.lastActivity = host.now;
  }

  get clientId(): string {
    return this.ticket.clientId;
  }

  get bytesOut(): number {
    return this.sink?.bytesOut ?? 0;
  }

  touch(): void {
    this.lastActivity = this.host.now;
  }

  /** Seconds-granular activity, counting the TCP connection's own traffic for TCP sessions. */
  activity(): number {
    const c = this.conn;
    return c !== undefined && this.transport !== 'UDP' ? Math.max(this.lastActivity, c.lastActivity) : this.lastActivity;
  }

  checkState(allowed: readonly SessionState[]): { status: 455; message: string } | undefined {
    return checkState(this.state, allowed);
  }

  /** An interleaved frame from this publisher's connection. */
  onInterleaved(channel: number, payload: Buffer, chunk: Buffer): void {
    if (this.state !== SessionState.Record) return;
    const slot = this.inMap[channel];
    if (slot < 0) return;
    this.stream!.forward(slot, payload, framedOffset(chunk, payload, channel));
  }

  /** A datagram on one of this publisher's UDP pairs. */
  onDatagram(slot: number, payload: Buffer, fromAddress: string): void {
    if (this.closed || fromAddress !== this.ip) return;
    this.lastActivity = this.host.now;
    this.bytesIn += payload.length;
    if (this.state !== SessionState.Record) return;
    this.stream!.forwardDatagram(slot, payload);
  }

  /**
   * Ends the session: detaches it from its stream (a publisher takes the stream down with it), frees its UDP ports,
   * and tells the server, which reports the end to the registry and closes the connection when asked to.
   */
  close(reason: string, opts: { keepConnection?: boolean } = {}): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    const stream = this.stream;
    if (stream) {
      if (this.role === 'publisher') stream.publisherLeft(this, reason);
      else stream.removeReader(this, this.sink);
    }
    for (const p of this.udpPairs) p.close();
    this.udpPairs.length = 0;
    this.host.sessionClosed(this, reason, opts.keepConnection === true);
  }
}
