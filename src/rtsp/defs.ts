/**
 * What the request handlers see of the server and of a connection: a reply, the context of one request, and two
 * narrow interfaces (gortsplib's and MediaMTX's consumer-defined interfaces are the model). Handlers never reach the
 * server's tables; they ask the host, and session transitions are RtspSession methods.
 *
 * Types only: this module imports nothing at run time, so server → conn → handlers → session stays a tree.
 */
import type { Config } from '../config/schema.js';
import type { AdmissionRequest, Decision } from '../core/types.js';
import type { Logger } from '../log.js';
import type { RtspRequest, SessionDescription } from './protocol/index.js';
import type { RtspSession, SessionConn, SessionKind, Ticket } from './session.js';
import type { ByteSink } from './sink.js';
import type { MediaStream } from './stream.js';
import type { UdpPair } from './udp.js';

export interface Reply {
  status: number;
  headers?: Array<[string, string]>;
  body?: string | Buffer;
  /** Adds `Session: <id>;timeout=<s>`. */
  session?: RtspSession;
  /** Close the connection once the reply is written. */
  close?: boolean;
  /** Runs right after the reply is written (PLAY starts the packets only once its answer is on the wire). */
  after?: () => void;
}

/**
 * What a request presented for a stream: the URL query and every Authorization value, and the method the
 * Authorization was computed for (a Digest response covers the method). Kept per connection and stream so that a
 * SETUP outside a session is admitted with it (SPEC §5).
 */
export interface Presented {
  query: string;
  authorization: readonly string[];
  method: string;
}

/** What a handler sees of the connection a request came on. */
export interface HandlerConn extends SessionConn {
  readonly id: number;
  /** Digest nonce of this connection (RFC 2617: the server's, per connection here). */
  readonly nonce: string;
  /** The socket, for viewers' interleaved packets. */
  readonly out: ByteSink;
  /** Every session bound to this connection, in any state. */
  readonly sessions: ReadonlySet<RtspSession>;
  /** The DESCRIBE's admitted session waiting for its SETUP, if any (only one: a newer DESCRIBE supersedes it). */
  readonly pending: RtspSession | undefined;
  /** Holds `s` as the pending session; a previous one is closed as superseded. */
  hold(s: RtspSession): void;
  /** What an admitted request on this connection presented for `stream`. */
  presented(stream: string): Presented | undefined;
  /** Remembers what an admitted request presented for `stream` (bounded per connection). */
  remember(stream: string, p: Presented): void;
}

/** What a handler may ask of the server. */
export interface HandlerHost {
  readonly cfg: Config['rtsp'];
  /** `sessions.tokenParam`: the query parameter carrying the token. */
  readonly tokenParam: string;
  readonly log: Logger;
  /** The clock (ms). */
  now(): number;
  /** Usher's admission pipeline. */
  admit(req: AdmissionRequest): Promise<Decision>;
  /** A new session in state Initial on `conn`, known under its id (and `rtsp-<id>` to the registry) from now on. */
  newSession(conn: HandlerConn, kind: SessionKind): RtspSession;
  /** The session a Session header names: established (past Initial) and not closed. */
  session(id: string): RtspSession | undefined;
  /** The stream that answers to a name. */
  stream(name: string): MediaStream | undefined;
  /** Creates and lists a stream for an ANNOUNCE; the name must be free. */
  createStream(name: string, sdp: SessionDescription): MediaStream;
  /**
   * An admitted input wants a path that is taken. True when the occupant was let go (the newcomer may announce): the
   * same Usher session coming back replaces its own stale connection, and an occupant the pipeline let the newcomer
   * replace is closed. False when the path stays with the occupant (only for one the pipeline cannot see).
   */
  takeOver(occupant: MediaStream, newcomer: Ticket): boolean;
  /** A UDP port pair of its own, for one track of a UDP input. */
  allocateUdpPair(): Promise<UdpPair>;
  /** The pair every UDP viewer is served from; undefined when UDP is not available. */
  readonly readerPair: UdpPair | undefined;
  /** RTCP from `address:port` is this UDP viewer's (its receiver reports count as activity). */
  listenRtcp(s: RtspSession, address: string, port: number): void;
}

/** One request being handled. `session` is the one the Session header names (or the connection's only one). */
export interface Ctx {
  host: HandlerHost;
  conn: HandlerConn;
  req: RtspRequest;
  session: RtspSession | undefined;
  /** The request carried a Session header. */
  named: boolean;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;
