/**
 * The pure RTSP 1.0 protocol layer: byte-stream decoding, request/response text, header codecs, SDP, auth and RTP
 * helpers. Nothing here opens a socket, reads a clock or keeps global state; the server modules compose it.
 */
export {
  RtspStreamDecoder,
  DEFAULT_MAX_REQUEST_BYTES,
  type DecodedItem,
  type DecodeErrorCode,
  type RtspStreamDecoderOptions,
} from './reader.js';
export {
  parseRequestHead,
  cseq,
  parseRtspUrl,
  trackIndexOf,
  parseQuery,
  formatResponse,
  reasonPhrase,
  REASON_PHRASES,
  DEFAULT_MAX_HEADERS,
  type RtspRequest,
  type RtspRequestHead,
  type ParseHeadResult,
  type HeadErrorCode,
  type RtspUrl,
  type ParseRtspUrlOptions,
  type ResponseHeaders,
} from './request.js';
export {
  parseTransportHeader,
  parseTransportSpec,
  pickTransport,
  formatTransport,
  type TransportSpec,
  type TransportPolicy,
  type ParsedSpec,
  type LowerTransport,
  type Delivery,
  type TransportMode,
} from './transport.js';
export {
  parseSessionHeader,
  formatSessionHeader,
  isValidSessionId,
  newSessionId,
  type SessionHeader,
} from './session-header.js';
export { parseRange, formatRange, type NptRange, type NptTime } from './range.js';
export { formatRtpInfo, parseRtpInfo, type RtpInfoEntry } from './rtp-info.js';
export {
  parseSdp,
  serializeSdp,
  sdpForReaders,
  readerControl,
  rtpMapOf,
  findMediaForSetup,
  DEFAULT_MAX_MEDIA,
  type SessionDescription,
  type SdpMedia,
  type SdpLine,
  type RtpMap,
  type ParseSdpResult,
  type ParseSdpOptions,
  type ReaderSdpOptions,
} from './sdp.js';
export {
  parseAuthorization,
  parseDigestFields,
  verifyDigest,
  digestResponse,
  basicChallenge,
  digestChallenge,
  makeNonce,
  type Credentials,
  type BasicCredentials,
  type DigestCredentials,
  type DigestFields,
  type DigestExpectations,
  type DigestChallengeOptions,
} from './auth.js';
export {
  rtpSequenceNumber,
  rtpTimestamp,
  rtpSsrc,
  readRtpHeader,
  interleavedHeader,
  frameInterleaved,
  rtcpBye,
  RTP_HEADER_MIN,
  MAX_INTERLEAVED_PAYLOAD,
  type RtpHeader,
} from './rtp.js';
