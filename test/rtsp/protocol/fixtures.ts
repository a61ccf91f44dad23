/** Real-world RTSP traffic used by several protocol tests (captured shapes of ffmpeg 5.x and VLC/live555). */
import type { DecodedItem } from '../../../src/rtsp/protocol/index.js';

/** The SDP ffmpeg (libavformat 59) sends in ANNOUNCE for an H.264 + AAC publish. */
export const FFMPEG_SDP =
  'v=0\r\n' +
  'o=- 0 0 IN IP4 127.0.0.1\r\n' +
  's=No Name\r\n' +
  'c=IN IP4 127.0.0.1\r\n' +
  't=0 0\r\n' +
  'a=tool:libavformat 59.27.100\r\n' +
  'm=video 0 RTP/AVP 96\r\n' +
  'a=rtpmap:96 H264/90000\r\n' +
  'a=fmtp:96 packetization-mode=1; sprop-parameter-sets=Z2QAHqzZQKAv+XARAAADAAEAAAMAMg8WLZY=,aOvjyyLA; profile-level-id=64001E\r\n' +
  'a=control:streamid=0\r\n' +
  'm=audio 0 RTP/AVP 97\r\n' +
  'b=AS:128\r\n' +
  'a=rtpmap:97 MPEG4-GENERIC/44100/2\r\n' +
  'a=fmtp:97 profile-level-id=1;mode=AAC-hbr;sizelength=13;indexlength=3;indexdeltalength=3; config=121056E500\r\n' +
  'a=control:streamid=1\r\n';

export const PUBLISH_URL = 'rtsp://127.0.0.1:8554/live/cam?tkn=abc';

export const FFMPEG_OPTIONS =
  `OPTIONS ${PUBLISH_URL} RTSP/1.0\r\n` + 'CSeq: 1\r\n' + 'User-Agent: Lavf59.27.100\r\n' + '\r\n';

export const FFMPEG_ANNOUNCE =
  `ANNOUNCE ${PUBLISH_URL} RTSP/1.0\r\n` +
  'Content-Type: application/sdp\r\n' +
  'CSeq: 2\r\n' +
  'User-Agent: Lavf59.27.100\r\n' +
  `Content-Length: ${Buffer.byteLength(FFMPEG_SDP)}\r\n` +
  '\r\n' +
  FFMPEG_SDP;

// ffmpeg appends the control to the URL string, after the query.
export const FFMPEG_SETUP_TCP =
  `SETUP ${PUBLISH_URL}/streamid=0 RTSP/1.0\r\n` +
  'Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record\r\n' +
  'CSeq: 3\r\n' +
  'User-Agent: Lavf59.27.100\r\n' +
  '\r\n';

export const FFMPEG_SETUP_UDP =
  `SETUP ${PUBLISH_URL}/streamid=1 RTSP/1.0\r\n` +
  'Transport: RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record\r\n' +
  'CSeq: 4\r\n' +
  'User-Agent: Lavf59.27.100\r\n' +
  'Session: 8a3f0c2e9b1d4f77\r\n' +
  '\r\n';

export const FFMPEG_RECORD =
  `RECORD ${PUBLISH_URL} RTSP/1.0\r\n` +
  'Range: npt=0.000-\r\n' +
  'CSeq: 5\r\n' +
  'User-Agent: Lavf59.27.100\r\n' +
  'Session: 8a3f0c2e9b1d4f77\r\n' +
  '\r\n';

export const VLC_DESCRIBE =
  'DESCRIBE rtsp://192.168.1.10:8554/live/cam RTSP/1.0\r\n' +
  'CSeq: 4\r\n' +
  'User-Agent: LibVLC/3.0.18 (LIVE555 Streaming Media v2022.04.26)\r\n' +
  'Accept: application/sdp\r\n' +
  '\r\n';

export const VLC_SETUP =
  'SETUP rtsp://192.168.1.10:8554/live/cam/trackID=1 RTSP/1.0\r\n' +
  'CSeq: 6\r\n' +
  'User-Agent: LibVLC/3.0.18 (LIVE555 Streaming Media v2022.04.26)\r\n' +
  'Transport: RTP/AVP;unicast;client_port=54090-54091\r\n' +
  'Session: 8a3f0c2e9b1d4f77\r\n' +
  '\r\n';

export const VLC_PLAY =
  'PLAY rtsp://192.168.1.10:8554/live/cam/ RTSP/1.0\r\n' +
  'CSeq: 7\r\n' +
  'User-Agent: LibVLC/3.0.18 (LIVE555 Streaming Media v2022.04.26)\r\n' +
  'Session: 8a3f0c2e9b1d4f77\r\n' +
  'Range: npt=0.000-\r\n' +
  '\r\n';

/** A minimal RTP packet (version 2) with the given sequence number. */
export function rtpPacket(seq: number, payloadBytes = 20, pt = 96): Buffer {
  const b = Buffer.alloc(12 + payloadBytes, 0xab);
  b[0] = 0x80;
  b[1] = pt;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(0x12345678, 4);
  b.writeUInt32BE(0xdeadbeef, 8);
  return b;
}

export function interleaved(channel: number, payload: Buffer): Buffer {
  const h = Buffer.from([0x24, channel, payload.length >> 8, payload.length & 0xff]);
  return Buffer.concat([h, payload]);
}

/** A comparable, plain-data view of decoder output (Buffers as hex, Maps as entry lists). */
export function plain(items: DecodedItem[]): unknown[] {
  return items.map((it) => {
    if (it.type === 'frame') return { type: 'frame', channel: it.channel, payload: it.payload.toString('hex') };
    if (it.type === 'error') return { type: 'error', code: it.code };
    const r = it.req;
    return {
      type: 'request',
      method: r.method,
      uri: r.uri,
      version: r.version,
      headers: [...r.headers.entries()],
      authorization: r.authorization,
      body: r.body.toString('hex'),
    };
  });
}
