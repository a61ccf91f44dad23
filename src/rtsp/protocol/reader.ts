/**
 * Incremental decoder for the bytes of one RTSP TCP connection: requests (head + optional body) and interleaved
 * binary frames (RFC 2326 §10.12: '$', channel, 16-bit big-endian length, payload) in any order and split at any
 * byte. Pure state machine: it never touches a socket and never throws on input.
 *
 * Hot path: a publisher's RTP arrives as many interleaved frames per TCP chunk. A frame that lies inside one chunk
 * is handed out as a subarray of that chunk (no copy); only a frame split across chunks is assembled, into one buffer
 * allocated at its final size, so a slow trickle costs O(n) and never O(n²). Callers must therefore not reuse or
 * mutate a chunk after pushing it (Node gives every 'data' event a fresh Buffer, so a socket reader is fine).
 */
import { DEFAULT_MAX_HEADERS, parseRequestHead, type RtspRequest } from './request.js';

export type DecodeErrorCode = 'E_TOO_LARGE' | 'E_TOO_MANY_HEADERS' | 'E_MALFORMED';

export type DecodedItem =
  | { type: 'request'; req: RtspRequest }
  | { type: 'frame'; channel: number; payload: Buffer }
  | { type: 'error'; code: DecodeErrorCode; message: string };

export interface RtspStreamDecoderOptions {
  /** Request line + headers + body, in bytes. Defaults to 16384 (ANNOUNCE SDPs are a few hundred bytes). */
  maxRequestBytes?: number;
  /** Header lines per request. Defaults to 64. */
  maxHeaders?: number;
}

export const DEFAULT_MAX_REQUEST_BYTES = 16384;

const DOLLAR = 0x24;
const CR = 0x0d;
const LF = 0x0a;

// Decoder states (plain numbers rather than an enum: erasable syntax, and cheap to compare on the hot path).
/** Between items: the next byte decides what comes. */
const IDLE = 0;
/** Inside the 4-byte interleaved header. */
const FRAME_HEADER = 1;
/** Inside an interleaved payload that did not fit in the chunk that started it. */
const FRAME_PAYLOAD = 2;
/** Inside a request head, looking for the empty line. */
const HEAD = 3;
/** Inside a request body. */
const BODY = 4;
/** An error was reported, or close() was called; everything else is ignored. */
const STOPPED = 5;
type State = typeof IDLE | typeof FRAME_HEADER | typeof FRAME_PAYLOAD | typeof HEAD | typeof BODY | typeof STOPPED;

// Characters a request line may start with (an RFC 2616 token character). Anything else at an item boundary is
// garbage, reported at once instead of after buffering maxRequestBytes of it.
const TOKEN_START = new Uint8Array(256);
for (const c of "!#%&'*+-.^_`|~") TOKEN_START[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TOKEN_START[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TOKEN_START[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TOKEN_START[c] = 1;

export class RtspStreamDecoder {
  readonly maxRequestBytes: number;
  readonly maxHeaders: number;

  private state: State = IDLE as State;
  private error: { code: DecodeErrorCode; message: string } | undefined;

  // Interleaved frame in progress.
  private readonly frameHeader = Buffer.alloc(4);
  private frameHeaderFill = 0;
  private frameChannel = 0;
  private frameBuf: Buffer = Buffer.alloc(0);
  private frameFill = 0;

  // Request head in progress: chunks kept as they came, joined once when the empty line is found.
  private headParts: Buffer[] = [];
  private headBytes = 0;
  /** 0: inside a line; 1: just after LF; 2: after LF then CR. An LF in state 1 or 2 ends the head. */
  private lineState = 0;

  // Request body in progress.
  private pendingHead: Omit<RtspRequest, 'body'> | undefined;
  private bodyBuf: Buffer = Buffer.alloc(0);
  private bodyFill = 0;

  constructor(opts: RtspStreamDecoderOptions = {}) {
    this.maxRequestBytes = positiveInt(opts.maxRequestBytes, DEFAULT_MAX_REQUEST_BYTES, 'maxRequestBytes');
    this.maxHeaders = positiveInt(opts.maxHeaders, DEFAULT_MAX_HEADERS, 'maxHeaders');
  }

  /** The error that stopped the decoder, if any. */
  get failed(): { code: DecodeErrorCode; message: string } | undefined {
    return this.error;
  }

  /** True once an error was reported or close() was called. */
  get stopped(): boolean {
    return this.state === STOPPED;
  }

  /** True while an item (a request, an interleaved frame) has begun and is not complete. */
  get inItem(): boolean {
    return this.state !== IDLE && this.state !== STOPPED;
  }

  /** Bytes held for an unfinished item (for metrics and tests). */
  get bufferedBytes(): number {
    switch (this.state) {
      case FRAME_HEADER: return this.frameHeaderFill;
      case FRAME_PAYLOAD: return 4 + this.frameFill;
      case HEAD: return this.headBytes;
      case BODY: return this.bodyFill;
      default: return 0;
    }
  }

  /** Stops decoding, e.g. from inside a callback when the connection is being closed; later bytes are ignored. */
  close(): void {
    this.state = STOPPED;
    this.headParts = [];
    this.frameBuf = this.bodyBuf = Buffer.alloc(0);
    this.pendingHead = undefined;
  }

  /** Decodes a chunk and returns the items it completed, in order. */
  push(chunk: Buffer): DecodedItem[] {
    const out: DecodedItem[] = [];
    this.feed(chunk, (item) => {
      out.push(item);
    });
    return out;
  }

  /**
   * Decodes a chunk, calling onItem for each completed item in order (no intermediate array). The callback may call
   * close(); decoding stops right after it. Not re-entrant: do not feed() from inside onItem.
   */
  feed(chunk: Buffer, onItem: (item: DecodedItem) => void): void {
    let pos = 0;
    const len = chunk.length;
    while (pos < len && this.state !== STOPPED) {
      switch (this.state) {
        case IDLE: {
          const b = chunk[pos];
          if (b === DOLLAR) {
            // Fast path: the whole frame is in this chunk; hand out a view of it.
            if (len - pos >= 4) {
              const size = (chunk[pos + 2] << 8) | chunk[pos + 3];
              if (len - pos - 4 >= size) {
                const start = pos + 4;
                pos = start + size;
                onItem({ type: 'frame', channel: chunk[start - 3], payload: chunk.subarray(start, pos) });
                break;
              }
            }
            this.state = FRAME_HEADER;
            this.frameHeaderFill = 0;
          } else if (b === CR || b === LF) {
            // Stray line ends between messages (some clients send CRLF after a body, or as a keep-alive).
            pos++;
          } else if (TOKEN_START[b] === 1) {
            this.state = HEAD;
            this.headParts = [];
            this.headBytes = 0;
            this.lineState = 0;
          } else {
            this.fail(onItem, 'E_MALFORMED', `unexpected byte 0x${b.toString(16).padStart(2, '0')} between messages`);
          }
          break;
        }

        case FRAME_HEADER: {
          while (this.frameHeaderFill < 4 && pos < len) this.frameHeader[this.frameHeaderFill++] = chunk[pos++];
          if (this.frameHeaderFill < 4) break;
          this.frameChannel = this.frameHeader[1];
          const size = this.frameHeader.readUInt16BE(2);
          if (len - pos >= size) {
            // The header was split but the payload is whole: still no copy.
            const start = pos;
            pos += size;
            this.state = IDLE;
            onItem({ type: 'frame', channel: this.frameChannel, payload: chunk.subarray(start, pos) });
          } else {
            this.frameBuf = Buffer.allocUnsafe(size);
            this.frameFill = 0;
            this.state = FRAME_PAYLOAD;
          }
          break;
        }

        case FRAME_PAYLOAD: {
          const n = Math.min(this.frameBuf.length - this.frameFill, len - pos);
          chunk.copy(this.frameBuf, this.frameFill, pos, pos + n);
          this.frameFill += n;
          pos += n;
          if (this.frameFill === this.frameBuf.length) {
            const payload = this.frameBuf;
            this.frameBuf = Buffer.alloc(0);
            this.state = IDLE;
            onItem({ type: 'frame', channel: this.frameChannel, payload });
          }
          break;
        }

        case HEAD:
          pos = this.scanHead(chunk, pos, onItem);
          break;

        case BODY: {
          const n = Math.min(this.bodyBuf.length - this.bodyFill, len - pos);
          chunk.copy(this.bodyBuf, this.bodyFill, pos, pos + n);
          this.bodyFill += n;
          pos += n;
          if (this.bodyFill === this.bodyBuf.length) this.emitRequest(onItem);
          break;
        }
      }
    }
  }

  /** Consumes head bytes from pos; returns the new position. Ends the head, or fails, when it can. */
  private scanHead(chunk: Buffer, pos: number, onItem: (item: DecodedItem) => void): number {
    const start = pos;
    const len = chunk.length;
    // Never look further than the size limit allows; the empty line must come within it.
    const limit = Math.min(len, pos + (this.maxRequestBytes - this.headBytes));
    let s = this.lineState;
    let end = -1;
    while (pos < limit) {
      const b = chunk[pos++];
      if (b === LF) {
        if (s !== 0) {
          end = pos;
          break;
        }
        s = 1;
      } else if (b === CR) {
        s = s === 1 ? 2 : 0;
      } else {
        s = 0;
      }
    }
    this.lineState = s;
    this.headParts.push(chunk.subarray(start, pos));
    this.headBytes += pos - start;
    if (end === -1) {
      if (this.headBytes >= this.maxRequestBytes) {
        this.fail(onItem, 'E_TOO_LARGE', `request head exceeds ${this.maxRequestBytes} bytes`);
      }
      return pos;
    }

    const raw = this.headParts.length === 1 ? this.headParts[0] : Buffer.concat(this.headParts, this.headBytes);
    this.headParts = [];
    const parsed = parseRequestHead(raw.toString('utf8'), this.maxHeaders);
    if (!parsed.ok) {
      this.fail(onItem, parsed.code, parsed.message);
      return pos;
    }
    const head = parsed.head;
    const cl = head.headers.get('content-length');
    let bodyLength = 0;
    if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) {
        this.fail(onItem, 'E_MALFORMED', 'bad Content-Length');
        return pos;
      }
      bodyLength = Number(cl); // may be huge (even Infinity); the size check below rejects it
    }
    if (this.headBytes + bodyLength > this.maxRequestBytes) {
      this.fail(onItem, 'E_TOO_LARGE', `request exceeds ${this.maxRequestBytes} bytes`);
      return pos;
    }
    this.pendingHead = head;
    // The body is copied, not viewed: requests are kept (ANNOUNCE's SDP lives as long as the stream) and must not pin
    // a whole socket chunk.
    this.bodyBuf = Buffer.alloc(bodyLength);
    this.bodyFill = 0;
    if (bodyLength === 0) this.emitRequest(onItem);
    else this.state = BODY;
    return pos;
  }

  private emitRequest(onItem: (item: DecodedItem) => void): void {
    const head = this.pendingHead!;
    const req: RtspRequest = { ...head, body: this.bodyBuf };
    this.pendingHead = undefined;
    this.bodyBuf = Buffer.alloc(0);
    this.state = IDLE;
    onItem({ type: 'request', req });
  }

  private fail(onItem: (item: DecodedItem) => void, code: DecodeErrorCode, message: string): void {
    this.close();
    this.error = { code, message };
    onItem({ type: 'error', code, message });
  }
}

function positiveInt(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isInteger(v) || v <= 0) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  return v;
}
