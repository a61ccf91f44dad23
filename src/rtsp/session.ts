/**
 * An RTSP session (RFC 2326 §3) and its state machine (gortsplib's ServerSessionState): every transition is a method
 * here that checks the state it starts from and sets the next one, so no handler sets a state itself.
 *
 * A session exists from the moment its admission is asked (state Initial, no ticket) — that is when Usher first knows
 * the client as `rtsp-<id>` and may kick it — through the admitted DESCRIBE waiting for its SETUP (Initial, with a
 * ticket), to the states a client can name in a Session header (PrePlay/Play for viewers, PreRecord/Record for
 * inputs). Over TCP interleaving it lives and dies with its connection; a UDP viewer that is playing may outlive it,
 * until TEARDOWN, a kick or the idle timeout. Its end is reported to the registry exactly once (by the host).
 */
import type { Kind } from '../core/types.js';
import { rtcpBye } from './protocol/index.js';
import type { TcpSink, UdpSink } from './sink.js';
import { framedOffset, type MediaStream, type StreamClient } from './stream.js';
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

/**
 * An RTSP session is a viewer (DESCRIBE/SETUP/PLAY) or an input (ANNOUNCE/SETUP/RECORD): the core's words, chosen
 * once where a request becomes a session (the handlers), never translated again.
 */
export type SessionKind = Extract<Kind, 'viewer' | 'input'>;

/** What admission said about a client, kept from the request that asked until the client goes. */
export interface Ticket {
  clientId: string;
  /** Usher's session id; undefined when the kind is not tracked (mode 0). */
  sessionId: string | undefined;
  /** The request joined a live Usher session (same key) rather than starting one. */
  joined: boolean;
  /** Stream name it was admitted for. */
  stream: string;
  /** What the request presented (query and Authorization), to tell a repeated DESCRIBE with other credentials apart. */
  credential: string;
}

/** A refused transition: RTSP 455, with the states that were allowed (gortsplib's ErrServerInvalidState). */
export interface StateError {
  status: 455;
  message: string;
}

/** 455 when `state` is not one of `allowed`, else undefined (gortsplib's checkState). */
export function checkState(state: SessionState, allowed: readonly SessionState[]): StateError | undefined {
  if (allowed.includes(state)) return undefined;
  return { status: 455, message: `method not valid in state ${stateName(state)} (allowed: ${allowed.map(stateName).join(', ')})` };
}

/** What a session needs from the connection it is controlled over. */
export interface SessionConn {
  readonly ip: string;
  readonly closed: boolean;
  /** The session is now controlled over this connection. */
  adopt(s: RtspSession): void;
  /** It no longer is. */
  drop(s: RtspSession): void;
  /** Interleaved frames of this connection go to `s` (an input in Record over TCP), or to nobody. */
  setRecording(s: RtspSession | undefined): void;
  /** The time (coarse clock, ms) of the connection's last byte. */
  readonly lastActivity: number;
  close(reason: string): void;
}

/**
 * How a session ends:
 * - `drop`: its connection is closed too (a kick, a slow reader, the stream ended);
 * - `keep`: the connection stays (TEARDOWN, a refused SETUP or ANNOUNCE);
 * - `lost`: the connection is already gone.
 */
export type CloseHow = 'drop' | 'keep' | 'lost';

/** What a session needs from the server that holds it. */
export interface SessionHost {
  /** Coarse clock (ms): activity stamps use it instead of a clock read per packet. */
  readonly clock: number;
  /** The session ended: the host forgets it and reports the end to the registry (once, and not after a kick). */
  sessionClosed(s: RtspSession, reason: string, how: CloseHow): void;
  /** An admission answered for a session that was closed meanwhile (its connection went, or a kick). */
  ticketOrphaned(s: RtspSession, ticket: Ticket): void;
}

export class RtspSession implements StreamClient {
  state = SessionState.Initial;
  /** Set once admission allowed the client; undefined while its admission is in flight. */
  ticket: Ticket | undefined;
  /** The control connection; undefined while a UDP session has none. */
  conn: SessionConn | undefined;
  stream: MediaStream | undefined;
  transport: 'TCP' | 'UDP' | undefined;
  lastActivity: number;
  closed = false;
  closeReason: string | undefined;
  /** Set by a kick: the registry already knows, so the end is not reported back to it. */
  kicked = false;

  /** The client's address; UDP packets from elsewhere are ignored. */
  readonly ip: string;

  // viewer
  sink: TcpSink | UdpSink | undefined;
  /** The URL each track was set up with (RTP-Info must repeat it exactly). */
  readonly setupUrls: Array<string | undefined> = [];
  /** `address:rtcpPort` keys under which the server finds this UDP viewer's RTCP. */
  readonly udpKeys: string[] = [];

  // input
  /** Interleaved channel → slot (track*2 + rtcp); -1 for channels not set up. */
  readonly inMap = new Int16Array(256).fill(-1);
  readonly udpPairs: UdpPair[] = [];
  bytesIn = 0;

  constructor(
    readonly id: string,
    readonly kind: SessionKind,
    conn: SessionConn,
    private readonly host: SessionHost,
  ) {
    this.lastActivity = host.clock;
    this.conn = conn;
    this.ip = conn.ip;
    conn.adopt(this);
  }

  /** The id the registry knows this client by (`rtsp-<session id>`). */
  get clientId(): string {
    return `rtsp-${this.id}`;
  }

  get bytesOut(): number {
    return this.sink?.bytesOut ?? 0;
  }

  /** Past Initial: a client may name it in a Session header. */
  get established(): boolean {
    return this.state !== SessionState.Initial;
  }

  touch(): void {
    this.lastActivity = this.host.clock;
  }

  /** Coarse activity time, counting the TCP connection's own traffic for TCP sessions. */
  activity(): number {
    const c = this.conn;
    return c !== undefined && this.transport !== 'UDP' ? Math.max(this.lastActivity, c.lastActivity) : this.lastActivity;
  }

  check(allowed: readonly SessionState[]): StateError | undefined {
    return checkState(this.state, allowed);
  }

  // ── transitions ──────────────────────────────────────────────────────────────────────────

  /**
   * Admission allowed the client. False when the session was closed while the answer was on its way (its
   * connection went, or a kick): the ticket is then let go through the host.
   */
  admitted(ticket: Ticket): boolean {
    if (this.closed) {
      this.host.ticketOrphaned(this, ticket);
      return false;
    }
    this.ticket = ticket;
    return true;
  }

  /** First SETUP of a viewer: Initial → PrePlay, attached to the stream (reference count + 1). False when removed. */
  setUpViewer(stream: MediaStream): boolean {
    if (this.state !== SessionState.Initial || this.kind !== 'viewer' || this.ticket === undefined) return false;
    if (!stream.addReader(this)) return false;
    this.stream = stream;
    this.state = SessionState.PrePlay;
    return true;
  }

  /** ANNOUNCE: Initial → PreRecord, the stream's publisher. */
  announce(stream: MediaStream): void {
    if (this.state !== SessionState.Initial || this.kind !== 'input' || this.ticket === undefined) {
      throw new Error(`announce in state ${stateName(this.state)}`);
    }
    this.stream = stream;
    this.state = SessionState.PreRecord;
    stream.setPublisher(this);
  }

  /** PLAY: PrePlay or Play → Play. `start`: packets must start once the answer is out (they were not flowing). */
  play(): StateError | { start: boolean } {
    const bad = this.check([SessionState.PrePlay, SessionState.Play]);
    if (bad) return bad;
    const start = this.state === SessionState.PrePlay;
    this.state = SessionState.Play;
    return { start };
  }

  /** Packets begin to flow to a viewer in Play (called once PLAY's answer is on the wire). */
  startPlaying(): void {
    if (this.state === SessionState.Play && !this.closed) this.stream!.startPlaying(this.sink!);
  }

  /** PAUSE: Play → PrePlay (packets stop), Record → PreRecord; PrePlay and PreRecord stay. */
  pause(): StateError | undefined {
    const bad = this.check([SessionState.PrePlay, SessionState.Play, SessionState.PreRecord, SessionState.Record]);
    if (bad) return bad;
    if (this.state === SessionState.Play) {
      this.stream!.stopPlaying(this.sink!);
      this.state = SessionState.PrePlay;
    } else if (this.state === SessionState.Record) {
      if (this.transport === 'TCP') this.conn?.setRecording(undefined);
      this.state = SessionState.PreRecord;
    }
    return undefined;
  }

  /** RECORD: PreRecord → Record, for an input with at least one track set up; its packets now fan out. */
  record(): StateError | undefined {
    const bad = this.check([SessionState.PreRecord]);
    if (bad) return bad;
    if (this.kind !== 'input' || this.transport === undefined) return { status: 455, message: 'RECORD needs a SETUP first' };
    this.state = SessionState.Record;
    if (this.transport === 'TCP') this.conn?.setRecording(this);
    return undefined;
  }

  /** A Session header named this UDP session from another connection: that connection controls it now. */
  moveTo(conn: SessionConn): void {
    if (this.conn === conn) return;
    this.conn?.drop(this);
    this.conn = conn;
    conn.adopt(this);
  }

  /** The connection went away; the session goes on without one (a UDP viewer that is playing). */
  detach(): void {
    this.conn = undefined;
  }

  // ── media ────────────────────────────────────────────────────────────────────────────────

  /** An interleaved frame from this input's connection. */
  onInterleaved(channel: number, payload: Buffer, chunk: Buffer): void {
    if (this.state !== SessionState.Record) return;
    const slot = this.inMap[channel];
    if (slot < 0) return;
    this.stream!.forward(slot, payload, framedOffset(chunk, payload, channel));
  }

  /** A datagram on one of this input's UDP pairs. */
  onDatagram(slot: number, payload: Buffer, fromAddress: string): void {
    if (this.closed || fromAddress !== this.ip) return;
    this.lastActivity = this.host.clock;
    this.bytesIn += payload.length;
    if (this.state !== SessionState.Record) return;
    this.stream!.forwardDatagram(slot, payload);
  }

  // ── end ──────────────────────────────────────────────────────────────────────────────────

  /** The registry dropped this client: it is closed at once, with its connection, and the end is not reported back. */
  kick(reason: string): void {
    this.kicked = true;
    this.close(`kicked: ${reason}`, 'drop');
  }

  /**
   * Ends the session: detaches it from its stream (an input takes the stream down with it), says RTCP BYE to a UDP
   * viewer the server is ending (a kick, the stream's end, a timeout: RFC 3550 §6.6; players that only listen on
   * UDP would otherwise play on), frees its UDP ports, and tells the host.
   */
  close(reason: string, how: CloseHow = 'drop'): void {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    const stream = this.stream;
    let bye: Promise<unknown> | undefined;
    if (stream) {
      if (this.kind === 'input') stream.publisherLeft(this, reason);
      else {
        if (reason !== 'teardown') bye = this.sayBye(stream);
        stream.removeReader(this, this.sink);
      }
    }
    for (const p of this.udpPairs) p.close();
    this.udpPairs.length = 0;
    const conn = this.conn;
    if (bye !== undefined && how === 'drop' && conn !== undefined) {
      // The BYE goes out before the control connection closes (live555's order): a player that sees the connection
      // go first reports an error instead of ending its stream (GStreamer).
      this.host.sessionClosed(this, reason, 'keep');
      void bye.then(() => {
        if (!conn.closed) conn.close(reason);
      });
      return;
    }
    this.host.sessionClosed(this, reason, how);
  }

  private sayBye(stream: MediaStream): Promise<unknown> | undefined {
    const sink = this.sink;
    if (sink === undefined || sink.kind !== 'udp') return undefined;
    const sent: Array<Promise<void>> = [];
    for (let i = 0; i < stream.tracks.length; i++) {
      // The publisher's SSRC: packets are relayed unchanged, so it is the source the viewer knows (0 before any packet).
      const p = sink.sendRtcp(i, rtcpBye(stream.tracks[i].ssrc ?? 0));
      if (p !== undefined) sent.push(p);
    }
    return sent.length > 0 ? Promise.all(sent) : undefined;
  }
}
