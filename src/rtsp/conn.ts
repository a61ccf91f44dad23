/**
 * One RTSP TCP connection: the incremental decoder, requests answered one at a time in order (CSeq echoed), the
 * input's interleaved frames handed to its session in batches (one batch per socket read), and the reply writer.
 * A malformed request gets 400 (an oversized one 413) and the connection is closed; nothing a client sends can throw
 * out of here. It keeps what belongs to this connection only: the sessions bound to it, the DESCRIBE admission
 * waiting for its SETUP, and what admitted requests presented per stream.
 */
import type { Socket } from 'node:net';
import type { HandlerHost, HandlerConn, Presented, Reply } from './defs.js';
import { dispatch } from './handlers/index.js';
import {
  RtspStreamDecoder,
  formatResponse,
  formatSessionHeader,
  makeNonce,
  type DecodeErrorCode,
  type DecodedItem,
  type RtspRequest,
} from './protocol/index.js';
import { SessionState, type RtspSession } from './session.js';

/** What a connection needs from the server, beyond what its handlers do. */
export interface ConnHost extends HandlerHost {
  /** Coarse clock (ms), for activity stamps on the hot path. */
  readonly clock: number;
  /** Called once, when the connection is closed (by either side). */
  connClosed(c: RtspConn): void;
}

/** Pipelined requests waiting for their turn; a client that sends more is not a client. */
const MAX_QUEUED = 32;
/** Streams whose presented credentials one connection remembers (a client plays one or two). */
const MAX_PRESENTED = 8;
const EMPTY = Buffer.alloc(0);

export class RtspConn implements HandlerConn {
  readonly sessions = new Set<RtspSession>();
  /** Digest nonce of this connection. */
  readonly nonce = makeNonce();
  readonly ip: string;
  /** When the connection was accepted (ms). */
  readonly createdAt: number;
  lastActivity: number;
  /** When the item being received (a request, a frame) began (ms); undefined between items. */
  partialSince: number | undefined;
  gotRequest = false;
  closed = false;
  bytesRead = 0;

  private held: RtspSession | undefined;
  /** The input session in Record over TCP on this connection: interleaved frames go to it. */
  private recording: RtspSession | undefined;
  private readonly presentedFor = new Map<string, Presented>();
  private readonly decoder: RtspStreamDecoder;
  private chunk: Buffer = EMPTY;
  private readonly queue: RtspRequest[] = [];
  private busy = false;
  private cleaned = false;

  constructor(private readonly host: ConnHost, readonly socket: Socket, readonly id: number) {
    this.ip = normalizeIp(socket.remoteAddress ?? '');
    this.createdAt = host.now();
    this.lastActivity = host.clock;
    this.decoder = new RtspStreamDecoder({ maxRequestBytes: host.cfg.maxRequestBytes, maxHeaders: host.cfg.maxHeaders });
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => this.close('socket error'));
    socket.on('close', () => this.cleanup());
  }

  get out(): Socket {
    return this.socket;
  }

  // ── HandlerConn ──────────────────────────────────────────────────────────────────────────

  get pending(): RtspSession | undefined {
    const s = this.held;
    return s !== undefined && !s.closed && s.state === SessionState.Initial && s.conn === this ? s : undefined;
  }

  hold(s: RtspSession): void {
    const prev = this.pending;
    this.held = s;
    if (prev !== undefined && prev !== s) prev.close('superseded', 'keep');
  }

  presented(stream: string): Presented | undefined {
    return this.presentedFor.get(stream);
  }

  remember(stream: string, p: Presented): void {
    this.presentedFor.delete(stream);
    if (this.presentedFor.size >= MAX_PRESENTED) this.presentedFor.delete(this.presentedFor.keys().next().value as string);
    this.presentedFor.set(stream, p);
  }

  /** Whether a session past Initial (set up, or announced) is bound to this connection. */
  hasEstablished(): boolean {
    for (const s of this.sessions) if (s.established) return true;
    return false;
  }

  adopt(s: RtspSession): void {
    this.sessions.add(s);
  }

  drop(s: RtspSession): void {
    this.sessions.delete(s);
    if (this.recording === s) this.recording = undefined;
    if (this.held === s) this.held = undefined;
  }

  setRecording(s: RtspSession | undefined): void {
    this.recording = s;
  }

  // ── bytes in ─────────────────────────────────────────────────────────────────────────────

  private readonly onData = (chunk: Buffer): void => {
    this.lastActivity = this.host.clock;
    this.bytesRead += chunk.length;
    this.chunk = chunk;
    const rec = this.recording;
    if (rec !== undefined && rec.stream !== undefined) {
      rec.bytesIn += chunk.length;
      const stream = rec.stream;
      stream.beginBatch();
      try {
        this.decoder.feed(chunk, this.onItem);
      } finally {
        stream.endBatch();
      }
    } else {
      this.decoder.feed(chunk, this.onItem);
    }
    this.chunk = EMPTY;
    // A request (or frame) that began must complete within rtsp.requestTimeoutSeconds (the reaper checks): a client
    // trickling a byte now and then would otherwise hold its connection for ever.
    if (this.partialSince === undefined && this.decoder.inItem) this.partialSince = this.host.now();
  };

  private readonly onItem = (item: DecodedItem): void => {
    this.partialSince = undefined;
    if (item.type === 'frame') {
      const r = this.recording;
      if (r !== undefined) r.onInterleaved(item.channel, item.payload, this.chunk);
      // Anything else (a viewer's RTCP receiver reports) only counts as activity.
      return;
    }
    if (item.type === 'request') {
      this.gotRequest = true;
      if (this.queue.length >= MAX_QUEUED) {
        this.close('too many pipelined requests');
        return;
      }
      this.queue.push(item.req);
      if (!this.busy) void this.pump();
      return;
    }
    this.onDecodeError(item.code);
  };

  private async pump(): Promise<void> {
    this.busy = true;
    try {
      while (this.queue.length > 0 && !this.closed) {
        const req = this.queue.shift()!;
        let reply: Reply;
        try {
          const r = dispatch(this.host, this, req);
          reply = r instanceof Promise ? await r : r;
        } catch (err) {
          this.host.log.error({ err, method: req.method }, 'RTSP request failed');
          reply = { status: 500 };
        }
        if (this.closed) break;
        this.send(req, reply);
      }
    } finally {
      this.busy = false;
    }
  }

  // ── bytes out ────────────────────────────────────────────────────────────────────────────

  private send(req: RtspRequest, reply: Reply): void {
    const headers: Array<[string, string]> = [];
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) headers.push(['CSeq', cseq]);
    headers.push(['Date', new Date(this.host.now()).toUTCString()], ['Server', 'Usher']);
    if (reply.session) {
      headers.push(['Session', formatSessionHeader({ id: reply.session.id, timeout: this.host.cfg.sessionTimeoutSeconds })]);
    }
    if (reply.headers) headers.push(...reply.headers);
    this.write(formatResponse(reply.status, headers, reply.body));
    if (reply.close) this.finish();
    else reply.after?.();
  }

  write(buf: Buffer): void {
    if (!this.closed && !this.socket.destroyed) this.socket.write(buf);
  }

  private onDecodeError(code: DecodeErrorCode): void {
    const status = code === 'E_TOO_LARGE' ? 413 : 400;
    this.write(formatResponse(status, [['Server', 'Usher']]));
    this.finish();
  }

  // ── end ──────────────────────────────────────────────────────────────────────────────────

  /** Sends what is queued, then closes (the last answer reaches the client). */
  private finish(): void {
    if (this.closed) return;
    this.socket.end();
    const t = setTimeout(() => this.socket.destroy(), 1000);
    t.unref();
    this.closed = true;
    this.decoder.close();
    this.cleanup();
  }

  /** Closes the connection at once. Its sessions end, except UDP viewers in Play (they may outlive it, RFC 2326). */
  close(_reason: string): void {
    this.closed = true;
    this.decoder.close();
    this.socket.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    if (this.cleaned) return;
    this.cleaned = true;
    this.closed = true;
    this.queue.length = 0;
    this.recording = undefined;
    this.held = undefined;
    for (const s of [...this.sessions]) {
      this.sessions.delete(s);
      // RFC 2326: a session is not a connection. A UDP viewer that is playing goes on until TEARDOWN, a kick or the
      // idle timeout; everything else (TCP interleaving, an input, a session not set up) ends with it.
      if (s.kind === 'viewer' && s.transport === 'UDP' && s.state === SessionState.Play) s.detach();
      else s.close('connection closed', 'lost');
    }
    this.host.connClosed(this);
  }
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
