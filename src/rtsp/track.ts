/**
 * One track of a media stream (live555's ServerMediaSubsession): one media section of the publisher's SDP, the
 * control name readers use for it (`trackID=N`), and what the relay last saw of its RTP (sequence number, timestamp,
 * SSRC), which a PLAY answer hands readers in RTP-Info and a SETUP answer in `ssrc=`.
 */
import { readerControl, rtpMapOf, type RtpInfoEntry, type SdpMedia } from './protocol/index.js';

export class Track {
  readonly control: string;
  readonly clockRate: number | undefined;
  /** Last RTP sequence number seen, -1 before the first packet. */
  lastSeq = -1;
  /** RTP timestamp of that packet (unsigned 32-bit). */
  lastTimestamp = 0;
  ssrc: number | undefined;
  packets = 0;

  constructor(readonly index: number, readonly media: SdpMedia) {
    this.control = readerControl(index);
    this.clockRate = rtpMapOf(media)?.clockRate;
  }

  /** Notes an RTP packet of this track (cheap: three header reads, no allocation). */
  noteRtp(p: Uint8Array): void {
    if (p.length < 12 || p[0] >> 6 !== 2) return;
    this.lastSeq = (p[2] << 8) | p[3];
    this.lastTimestamp = ((p[4] << 24) | (p[5] << 16) | (p[6] << 8) | p[7]) >>> 0;
    this.ssrc = ((p[8] << 24) | (p[9] << 16) | (p[10] << 8) | p[11]) >>> 0;
    this.packets++;
  }

  /**
   * The RTP-Info entry for a reader that starts now: the next packet it gets follows the last one seen, so seq is
   * last + 1 and rtptime the last timestamp. Without a packet yet, only the URL.
   */
  rtpInfo(url: string): RtpInfoEntry {
    if (this.lastSeq < 0) return { url };
    return { url, seq: (this.lastSeq + 1) & 0xffff, rtptime: this.lastTimestamp };
  }
}
