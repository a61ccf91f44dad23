/**
 * Minimal RTP (RFC 3550 §5.1) header reading and RTSP interleaved framing (RFC 2326 §10.12). The relay never
 * rewrites packets; it only needs a packet's sequence number and timestamp (for RTP-Info) and its SSRC, and must wrap
 * packets for TCP readers without copying them per reader.
 */

export const RTP_HEADER_MIN = 12;
export const MAX_INTERLEAVED_PAYLOAD = 0xffff;

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
}

function isRtp(pkt: Uint8Array): boolean {
  return pkt.length >= RTP_HEADER_MIN && pkt[0] >> 6 === 2;
}

/** The 16-bit sequence number, or undefined when the packet is shorter than 12 bytes or not RTP version 2. */
export function rtpSequenceNumber(pkt: Uint8Array): number | undefined {
  return isRtp(pkt) ? (pkt[2] << 8) | pkt[3] : undefined;
}

/** The 32-bit timestamp (unsigned), or undefined as for rtpSequenceNumber. */
export function rtpTimestamp(pkt: Uint8Array): number | undefined {
  return isRtp(pkt) ? readU32(pkt, 4) : undefined;
}

/** The 32-bit SSRC (unsigned), or undefined as for rtpSequenceNumber. */
export function rtpSsrc(pkt: Uint8Array): number | undefined {
  return isRtp(pkt) ? readU32(pkt, 8) : undefined;
}

/** The fixed header fields at once, or undefined as for rtpSequenceNumber. */
export function readRtpHeader(pkt: Uint8Array): RtpHeader | undefined {
  if (!isRtp(pkt)) return undefined;
  return {
    marker: (pkt[1] & 0x80) !== 0,
    payloadType: pkt[1] & 0x7f,
    sequenceNumber: (pkt[2] << 8) | pkt[3],
    timestamp: readU32(pkt, 4),
    ssrc: readU32(pkt, 8),
  };
}

function readU32(b: Uint8Array, o: number): number {
  // `>>> 0` keeps the result unsigned; a plain << would go negative for values >= 2^31.
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}

/**
 * Writes the 4-byte `$ channel length` header into `into` (at least 4 bytes; a fresh 4-byte buffer when omitted) and
 * returns it, so a reader's socket can `writev([header, payload])` and the payload is never copied. Use one header
 * buffer per write: the socket keeps a reference until the write completes.
 */
export function interleavedHeader(channel: number, length: number, into: Buffer = Buffer.allocUnsafe(4)): Buffer {
  checkFrame(channel, length);
  if (into.length < 4) throw new RangeError('interleaved header needs a 4-byte buffer');
  into[0] = 0x24;
  into[1] = channel;
  into[2] = length >> 8;
  into[3] = length & 0xff;
  return into;
}

/**
 * Header and payload in one buffer, allocated once: for a packet framed once and then written to many TCP readers
 * on the same channel (the same Buffer goes to every socket).
 */
export function frameInterleaved(channel: number, payload: Uint8Array): Buffer {
  checkFrame(channel, payload.length);
  const out = Buffer.allocUnsafe(4 + payload.length);
  interleavedHeader(channel, payload.length, out);
  out.set(payload, 4);
  return out;
}

function checkFrame(channel: number, length: number): void {
  if (!Number.isInteger(channel) || channel < 0 || channel > 255) throw new RangeError(`bad interleaved channel ${channel}`);
  if (!Number.isInteger(length) || length < 0 || length > MAX_INTERLEAVED_PAYLOAD) {
    throw new RangeError(`interleaved payload of ${length} bytes does not fit a 16-bit length`);
  }
}

/**
 * A compound RTCP packet saying `ssrc` leaves (RFC 3550 §6.6): an empty receiver report, then BYE. The report
 * comes first because receivers reject a compound packet that does not start with SR or RR (live555's
 * RTCPInstance, GStreamer's gst_rtcp_buffer_validate); ffmpeg ends a stream once every track got its BYE.
 */
export function rtcpBye(ssrc: number): Buffer {
  const b = Buffer.alloc(16);
  b[0] = 0x80; // V=2, P=0, RC=0
  b[1] = 201; // RR
  b.writeUInt16BE(1, 2); // length in 32-bit words minus one
  b.writeUInt32BE(ssrc >>> 0, 4);
  b[8] = 0x81; // V=2, P=0, SC=1
  b[9] = 203; // BYE
  b.writeUInt16BE(1, 10);
  b.writeUInt32BE(ssrc >>> 0, 12);
  return b;
}
