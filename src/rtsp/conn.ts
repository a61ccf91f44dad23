/**
 * One RTSP TCP connection: the incremental decoder, requests answered one at a time in order (CSeq echoed), the
 * publisher's interleaved frames handed to its session in batches (one batch per socket read), and the reply
 * writer. A malformed request gets 400 (an oversized one 413) and the connection is closed; nothing a client sends
 * can throw out of here.
 */
import type { Socket } from 'node:net';
import {
  RtspStreamDecoder,
  formatResponse,
  formatSessionHeader,
  makeNonce,
  type DecodeErrorCode,
  type DecodedItem,
  type RtspRequest,
} from './protocol/index.js';
import { dispatch } from './handlers/index.js';
import type { RtspServer } from './server.js';
import type { RtspSession, Ticket } from './session.js';

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

/** Pipelined requests waiting for their turn; a client that sends more is not a client. */
const MAX_QUEUED = 32;
const EMPTY = Buffer.alloc(0);

export class RtspConn {
  readonly sessions = new Set<RtspSession>();
  /** A DESCRIBE's admission, waiting for the SETUP that creates its session. */
  pending: { ticket: Ticket; sid: string } | undefined;
  /** Digest nonce of this connection. */
  readonly nonce = makeNonce();
  readonly ip: string;
  readonly createdAt: number;
  lastActivity: number;
  gotRequest = false;
  closed = false;
  /** The publisher session in Record on this connection: interleaved frames go to it. */
  recording: RtspSession | undefined;
  bytesRead = 0;

  private readonly decoder: RtspStreamDecoder;
  private chunk: Buffer = EMPTY;
  private readonly queue: RtspRequest[] = [];
  private busy = false;
  private cleaned = false;

  constructor(readonly server: RtspServer, readonly socket: Socket, readonly id: number) {
    this.ip = normalizeIp(socket.remoteAddress ?? '');
    this.createdAt = Date.now();
    this.lastActivity = server.now;
    this.decoder = new RtspStreamDecoder({ maxRequestBytes: server.cfg.maxRequestBytes, maxHeaders: server.cfg.maxHeaders });
    socket.setNoDelay(true);
    socket.on('data', this.onData);
    socket.on('error', () => this.close('socket error'));
    socket.on('close', () => this.cleanup());
  }

  private readonly onData = (chunk: Buffer): void => {
    this.lastActivity = this.server.now;
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
  };

  private readonly onItem = (item: DecodedItem): void => {
    if (item.type === 'frame') {
      const r = this.recording;
      if (r !== undefined) r.onInterleaved(item.channel, item.payload, this.chunk);
      // Anything else (a reader's RTCP receiver reports) only counts as activity.
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
          const r = dispatch(this.server, this, req);
          reply = r instanceof Promise ? await r : r;
        } catch (err) {
          this.server.log.error({ err, method: req.method }, 'RTSP request failed');
          reply = { status: 500 };
        }
        if (this.closed) break;
        this.send(req, reply);
      }
    } finally {
      this.busy = false;
    }
  }

  private send(req: RtspRequest, reply: Reply): void {
    const headers: Array<[string, string]> = [];
    const cseq = req.headers.get('cseq');
    if (cseq !== undefined && /^\d{1,10}$/.test(cseq)) headers.push(['CSeq', cseq]);
    headers.push(['Date', new Date().toUTCString()], ['Server', 'Usher']);
    if (reply.session) {
      headers.push(['Session', formatSessionHeader({ id: reply.session.id, timeout: this.server.cfg.sessionTimeoutSeconds })]);
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

  /** Sends what is queued, then closes (the last answer reaches the client). */
  private finish(): void {
    if (this.closed) return;
    this.socket.end();
    const t = setTimeout(() => this.close('finished'), 1000);
    t.unref();
    this.closed = true;
    this.decoder.close();
    this.cleanup();
  }

  /** Closes the connection at once. Its sessions end, except UDP readers in Play (they may outlive it, RFC 2326). */
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
    this.server.connClosed(this);
  }
}

export function normalizeIp(ip: string): string {
  return ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
}
