/**
 * The RTP-Info header of a PLAY reply (RFC 2326 §12.33): for each track, its URL and the sequence number and RTP
 * timestamp of the first packet the reader will get, so that it can map RTP time to the play range and drop older
 * packets. `RTP-Info: url=rtsp://h/s/trackID=0;seq=123;rtptime=456,url=rtsp://h/s/trackID=1;seq=7;rtptime=8`
 */

export interface RtpInfoEntry {
  url: string;
  /** 16-bit sequence number; omitted when not known yet (nothing received from the publisher). */
  seq?: number;
  /** 32-bit RTP timestamp; omitted when not known yet. */
  rtptime?: number;
}

/**
 * Formats the header value. Throws on a URL containing ',' ';' or a line break (they would split the list; the URL
 * comes from the server, so that is a bug) and on out-of-range numbers.
 */
export function formatRtpInfo(entries: readonly RtpInfoEntry[]): string {
  return entries
    .map((e) => {
      if (e.url === '' || /[,;\r\n\s]/.test(e.url)) throw new TypeError(`URL not usable in RTP-Info: ${JSON.stringify(e.url)}`);
      let s = `url=${e.url}`;
      if (e.seq !== undefined) s += `;seq=${checkUint(e.seq, 0xffff, 'seq')}`;
      if (e.rtptime !== undefined) s += `;rtptime=${checkUint(e.rtptime, 0xffffffff, 'rtptime')}`;
      return s;
    })
    .join(',');
}

/** Parses the header value (for tests and for a relay that reads from another server); undefined on garbage. */
export function parseRtpInfo(value: string): RtpInfoEntry[] | undefined {
  const out: RtpInfoEntry[] = [];
  for (const part of value.split(',')) {
    const params = part.trim().split(';');
    const entry: Partial<RtpInfoEntry> = {};
    for (const p of params) {
      const eq = p.indexOf('=');
      if (eq === -1) return undefined;
      const k = p.slice(0, eq).trim().toLowerCase();
      const v = p.slice(eq + 1).trim();
      if (k === 'url') entry.url = v;
      else if (k === 'seq' && /^\d{1,5}$/.test(v) && Number(v) <= 0xffff) entry.seq = Number(v);
      else if (k === 'rtptime' && /^\d{1,10}$/.test(v) && Number(v) <= 0xffffffff) entry.rtptime = Number(v);
      else if (k === 'seq' || k === 'rtptime') return undefined;
    }
    if (entry.url === undefined || entry.url === '') return undefined;
    out.push(entry as RtpInfoEntry);
  }
  return out;
}

function checkUint(n: number, max: number, name: string): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${name} out of range: ${n}`);
  return n;
}
