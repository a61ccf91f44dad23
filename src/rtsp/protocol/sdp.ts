/**
 * SDP (RFC 4566) as the relay needs it: parse a publisher's ANNOUNCE body into session lines and media sections,
 * keeping every line so it can be written back unchanged; read each media's control, type, payload types and
 * rtpmap; and produce the description handed to readers (same content, controls rewritten to `trackID=N`, a
 * session-level `a=control:*`). Like gortsplib's pkg/sdp + pkg/description split, but in one small file.
 */

export interface SdpLine {
  /** The type letter ('v', 'o', 'm', 'a', …). */
  type: string;
  /** Everything after '='. */
  value: string;
}

export interface RtpMap {
  payloadType: number;
  /** Encoding name as written (`H264`, `MPEG4-GENERIC`); compare case-insensitively. */
  encoding: string;
  clockRate: number;
  /** Audio channels, when given (`/2`). */
  channels?: number;
}

export interface SdpMedia {
  /** Media type from the m= line: 'video', 'audio', 'application', … */
  type: string;
  port: number;
  /** Transport protocol from the m= line, e.g. 'RTP/AVP'. */
  proto: string;
  /** Format list from the m= line as written. */
  formats: string[];
  /** The formats as numbers when the protocol is RTP (each 0..127); empty otherwise. */
  payloadTypes: number[];
  /** The media's `a=control:` value, trimmed. */
  control?: string;
  /** Explicit `a=rtpmap:` entries, by payload type. Use rtpMapOf() to fall back to the static table. */
  rtpmap: Map<number, RtpMap>;
  /** `a=fmtp:` parameters, by payload type. */
  fmtp: Map<number, string>;
  /** Every line of the section, the m= line first, as received. */
  lines: SdpLine[];
}

export interface SessionDescription {
  /** Session-level lines, v= first, as received. */
  session: SdpLine[];
  media: SdpMedia[];
  /** Session-level `a=control:` (usually '*' or an absolute URL), when present. */
  control?: string;
}

export type ParseSdpResult = { ok: true; sdp: SessionDescription } | { ok: false; message: string };

export interface ParseSdpOptions {
  /** Maximum media sections (default 16). A live stream has a handful; more is a mistake or an attack. */
  maxMedia?: number;
  /** Maximum lines in all (default 1024). */
  maxLines?: number;
}

export const DEFAULT_MAX_MEDIA = 16;
const DEFAULT_MAX_LINES = 1024;

// A line is one lower-case type letter, '=', and text without control characters (HT allowed, as in fmtp values).
const LINE = /^([a-z])=([^\x00-\x08\x0a-\x1f\x7f]*)$/;
const MEDIA = /^([A-Za-z0-9_.-]+) (\d{1,5})(?:\/(\d{1,5}))? ([A-Za-z0-9/_.-]+)((?: [^ ]+)+)$/;
const RTPMAP = /^(\d{1,3}) ([A-Za-z0-9_.+-]+)\/(\d{1,10})(?:\/(\d{1,3}))?$/;

/**
 * Parses an SDP (string or the ANNOUNCE body). CRLF and bare LF line ends are both accepted; blank lines are
 * skipped. Never throws: garbage (no `v=0` first, a line that is not `x=...`, a broken m= or rtpmap line, no media,
 * too many media) is an error result.
 */
export function parseSdp(input: string | Buffer, opts: ParseSdpOptions = {}): ParseSdpResult {
  const maxMedia = opts.maxMedia ?? DEFAULT_MAX_MEDIA;
  const maxLines = opts.maxLines ?? DEFAULT_MAX_LINES;
  const text = typeof input === 'string' ? input : input.toString('utf8');
  const rawLines = text.split('\n');
  if (rawLines.length > maxLines + 1) return bad(`more than ${maxLines} lines`);

  const session: SdpLine[] = [];
  const media: SdpMedia[] = [];
  let sessionControl: string | undefined;
  let current: SdpMedia | undefined;

  for (let raw of rawLines) {
    if (raw.endsWith('\r')) raw = raw.slice(0, -1);
    if (raw.trim() === '') continue;
    const m = LINE.exec(raw);
    if (!m) return bad(`not an SDP line: ${JSON.stringify(raw.slice(0, 60))}`);
    const line: SdpLine = { type: m[1], value: m[2] };

    if (session.length === 0) {
      if (line.type !== 'v' || line.value.trim() !== '0') return bad('SDP must start with v=0');
      session.push(line);
      continue;
    }

    if (line.type === 'm') {
      if (media.length >= maxMedia) return bad(`more than ${maxMedia} media sections`);
      const parsed = parseMediaLine(line);
      if (!parsed) return bad(`bad media line: ${JSON.stringify(raw.slice(0, 60))}`);
      current = parsed;
      media.push(current);
      continue;
    }

    if (line.type === 'a') {
      const colon = line.value.indexOf(':');
      const attr = colon === -1 ? line.value : line.value.slice(0, colon);
      const val = colon === -1 ? '' : line.value.slice(colon + 1).trim();
      if (attr === 'control') {
        if (current) current.control = val;
        else sessionControl = val;
      } else if (attr === 'rtpmap' && current) {
        const r = RTPMAP.exec(val);
        if (!r) return bad(`bad rtpmap: ${JSON.stringify(val.slice(0, 60))}`);
        const pt = Number(r[1]);
        const clockRate = Number(r[3]);
        if (pt > 127 || clockRate === 0) return bad(`bad rtpmap: ${JSON.stringify(val.slice(0, 60))}`);
        const map: RtpMap = { payloadType: pt, encoding: r[2], clockRate };
        if (r[4] !== undefined) map.channels = Number(r[4]);
        current.rtpmap.set(pt, map);
      } else if (attr === 'fmtp' && current) {
        const f = /^(\d{1,3})\s+(.*)$/.exec(val);
        if (f) current.fmtp.set(Number(f[1]), f[2]);
      }
    }
    (current ? current.lines : session).push(line);
  }

  if (session.length === 0) return bad('empty SDP');
  if (media.length === 0) return bad('SDP has no media');
  const sdp: SessionDescription = { session, media };
  if (sessionControl !== undefined) sdp.control = sessionControl;
  return { ok: true, sdp };
}

function parseMediaLine(line: SdpLine): SdpMedia | undefined {
  const m = MEDIA.exec(line.value);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const proto = m[4];
  const formats = m[5].trim().split(' ');
  const payloadTypes: number[] = [];
  if (/(^|\/)RTP\//i.test(proto)) {
    for (const f of formats) {
      if (!/^\d{1,3}$/.test(f) || Number(f) > 127) return undefined;
      payloadTypes.push(Number(f));
    }
  }
  return { type: m[1], port, proto, formats, payloadTypes, rtpmap: new Map(), fmtp: new Map(), lines: [line] };
}

function bad(message: string): ParseSdpResult {
  return { ok: false, message };
}

/** Writes the description back, line for line, with CRLF line ends (RFC 4566). */
export function serializeSdp(sdp: SessionDescription): string {
  const lines = [...sdp.session, ...sdp.media.flatMap((m) => m.lines)];
  return lines.map((l) => `${l.type}=${l.value}\r\n`).join('');
}

// RFC 3551 static payload types, for SDPs that list e.g. `m=audio 0 RTP/AVP 0` without an rtpmap.
const STATIC_PT: Readonly<Record<number, readonly [string, number, number?]>> = {
  0: ['PCMU', 8000, 1], 3: ['GSM', 8000, 1], 4: ['G723', 8000, 1], 5: ['DVI4', 8000, 1], 6: ['DVI4', 16000, 1],
  7: ['LPC', 8000, 1], 8: ['PCMA', 8000, 1], 9: ['G722', 8000, 1], 10: ['L16', 44100, 2], 11: ['L16', 44100, 1],
  12: ['QCELP', 8000, 1], 13: ['CN', 8000, 1], 14: ['MPA', 90000], 15: ['G728', 8000, 1], 16: ['DVI4', 11025, 1],
  17: ['DVI4', 22050, 1], 18: ['G729', 8000, 1], 25: ['CelB', 90000], 26: ['JPEG', 90000], 28: ['nv', 90000],
  31: ['H261', 90000], 32: ['MPV', 90000], 33: ['MP2T', 90000], 34: ['H263', 90000],
};

/** The rtpmap of a payload type: the explicit `a=rtpmap:`, else the RFC 3551 static assignment, else undefined. */
export function rtpMapOf(media: SdpMedia, payloadType: number = media.payloadTypes[0]): RtpMap | undefined {
  const explicit = media.rtpmap.get(payloadType);
  if (explicit) return explicit;
  const s = STATIC_PT[payloadType];
  if (!s) return undefined;
  const map: RtpMap = { payloadType, encoding: s[0], clockRate: s[1] };
  if (s[2] !== undefined) map.channels = s[2];
  return map;
}

export interface ReaderSdpOptions {
  /**
   * The o= value to write (`- <sess-id> <sess-version> IN IP4 <address>`). By default the publisher's is kept when
   * it is well-formed, else `- 0 0 IN IP4 0.0.0.0` is written.
   */
  origin?: string;
  /** The s= value. By default the publisher's is kept when not empty, else 'Stream'. */
  sessionName?: string;
}

const ORIGIN = /^\S+ \d{1,20} \d{1,20} IN IP[46] \S+$/;

/** The control a reader uses for media index N; what sdpForReaders writes and parseRtspUrl/trackIndexOf read back. */
export function readerControl(index: number): string {
  return `trackID=${index}`;
}

/**
 * The SDP given to readers in DESCRIBE: the publisher's lines, with a valid o= and non-empty s= first (RFC 4566
 * order v, o, s), t= added if missing, session-level `a=control:*`, and each media's control replaced by
 * `trackID=N` (N = its index), so that SETUP URLs never depend on what the publisher called its tracks. Send it with
 * `Content-Base: <request URL>/` so clients resolve `trackID=N` against the stream URL.
 */
export function sdpForReaders(sdp: SessionDescription, opts: ReaderSdpOptions = {}): string {
  const get = (type: string): string | undefined => sdp.session.find((l) => l.type === type)?.value;
  const publisherOrigin = get('o');
  const origin = opts.origin ?? (publisherOrigin !== undefined && ORIGIN.test(publisherOrigin) ? publisherOrigin : '- 0 0 IN IP4 0.0.0.0');
  const publisherName = get('s');
  const name = opts.sessionName ?? (publisherName !== undefined && publisherName.trim() !== '' ? publisherName : 'Stream');
  if (/[\r\n]/.test(origin) || /[\r\n]/.test(name)) throw new TypeError('o= and s= values must be single lines');

  const out: SdpLine[] = [
    { type: 'v', value: '0' },
    { type: 'o', value: origin },
    { type: 's', value: name },
  ];
  const rest = sdp.session.filter((l) => l.type !== 'v' && l.type !== 'o' && l.type !== 's' && !isControl(l));
  if (!rest.some((l) => l.type === 't')) {
    // t= must precede r=, z=, k= and a= (RFC 4566 §5).
    const at = rest.findIndex((l) => l.type === 'r' || l.type === 'z' || l.type === 'k' || l.type === 'a');
    rest.splice(at === -1 ? rest.length : at, 0, { type: 't', value: '0 0' });
  }
  out.push(...rest, { type: 'a', value: 'control:*' });

  sdp.media.forEach((m, i) => {
    out.push(...m.lines.filter((l) => !isControl(l)), { type: 'a', value: `control:${readerControl(i)}` });
  });
  return out.map((l) => `${l.type}=${l.value}\r\n`).join('');
}

function isControl(l: SdpLine): boolean {
  return l.type === 'a' && /^control(:|$)/.test(l.value);
}

/**
 * Which of the publisher's media a SETUP URL names: a relative control matches when the URL ends with '/' + control
 * (ffmpeg appends it even after a query); an absolute control matches the URL exactly. A lone media without a
 * usable control is named by any URL (the aggregate URL then doubles as the media URL). Undefined when none matches.
 */
export function findMediaForSetup(sdp: SessionDescription, uri: string): number | undefined {
  let best: number | undefined;
  let bestLen = -1;
  sdp.media.forEach((m, i) => {
    const c = m.control;
    if (c === undefined || c === '' || c === '*') return;
    const hit = /^[a-z][a-z0-9+.-]*:\/\//i.test(c) ? uri === c : uri.endsWith(`/${c}`);
    // Longest control wins, so that nested controls (`a` and `a/b`) cannot shadow each other.
    if (hit && c.length > bestLen) {
      best = i;
      bestLen = c.length;
    }
  });
  if (best !== undefined) return best;
  if (sdp.media.length === 1) {
    const c = sdp.media[0].control;
    if (c === undefined || c === '' || c === '*') return 0;
  }
  return undefined;
}
