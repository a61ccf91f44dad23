/**
 * RTSP 1.0 requests (RFC 2326 §6) and responses (§7): the parsed shape, the head parser, the response
 * serializer and URL helpers. Pure: no sockets, no clocks, nothing global but constant tables.
 */

export interface RtspRequest {
  method: string;
  uri: string;
  /** As sent (`RTSP/1.0`); the server answers 505 to anything else, so the parser does not refuse it. */
  version: string;
  /**
   * Lower-case names. A repeated header is joined with ', ' (RFC 2616 §4.2), except `authorization`, where
   * the map keeps the first value only: joining two Digest parameter lists would make them unparseable.
   * Every Authorization value is in `authorization` below.
   */
  headers: Map<string, string>;
  /** Every `Authorization` value, in order (a client may offer Basic and Digest at once). */
  authorization: string[];
  /** Content-Length bytes after the head (ANNOUNCE's SDP, GET/SET_PARAMETER bodies); empty when none. */
  body: Buffer;
}

export type RtspRequestHead = Omit<RtspRequest, 'body'>;

export type HeadErrorCode = 'E_TOO_MANY_HEADERS' | 'E_MALFORMED';

export type ParseHeadResult =
  | { ok: true; head: RtspRequestHead }
  | { ok: false; code: HeadErrorCode; message: string };

export const DEFAULT_MAX_HEADERS = 64;

// RFC 2616 token characters; method and header names must be made of these.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const VERSION = /^RTSP\/\d{1,3}\.\d{1,3}$/;
// Controls other than HT have no business in a head; refusing them stops header injection and log forgery.
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;

/**
 * Parses a request head: the request line and header lines, without the terminating empty line. Lines may end
 * in CRLF or bare LF (some clients do that). Obsolete line folding (a line starting with SP/HT continues the
 * previous header) is accepted. Never throws: anything wrong is an error result, so that the connection can answer
 * 400 and close.
 */
export function parseRequestHead(text: string, maxHeaders: number = DEFAULT_MAX_HEADERS): ParseHeadResult {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i];
    if (l.endsWith('\r')) lines[i] = l.slice(0, -1);
  }
  // Tolerate the terminator being passed in, and stray empty lines at the end.
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  if (lines.length === 0) return malformed('empty request');

  const requestLine = lines[0];
  if (CONTROL.test(requestLine)) return malformed('control character in request line');
  const parts = requestLine.split(' ');
  if (parts.length !== 3) return malformed('request line must be "METHOD URI RTSP/1.0"');
  const [method, uri, version] = parts;
  if (!TOKEN.test(method)) return malformed('bad method');
  if (uri === '' || uri.includes('\t')) return malformed('bad request URI');
  if (!VERSION.test(version)) return malformed('bad protocol version');

  const headers = new Map<string, string>();
  const authorization: string[] = [];
  let count = 0;
  let last: string | undefined; // name of the previous header, for folded lines
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') return malformed('empty line inside the head');
    if (CONTROL.test(line)) return malformed('control character in a header');
    if (line[0] === ' ' || line[0] === '\t') {
      if (last === undefined) return malformed('continuation line without a header');
      const more = line.trim();
      if (more === '') continue;
      if (last === 'authorization') {
        const i = authorization.length - 1;
        authorization[i] = fold(authorization[i], more);
        if (i === 0) headers.set(last, authorization[0]);
      } else {
        headers.set(last, fold(headers.get(last) ?? '', more));
      }
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) return malformed('header line without a name');
    const name = line.slice(0, colon).toLowerCase();
    if (!TOKEN.test(name)) return malformed('bad header name');
    if (++count > maxHeaders) {
      return { ok: false, code: 'E_TOO_MANY_HEADERS', message: `more than ${maxHeaders} headers` };
    }
    const value = line.slice(colon + 1).trim();
    last = name;
    if (name === 'authorization') {
      authorization.push(value);
      if (authorization.length === 1) headers.set(name, value);
      continue;
    }
    const prev = headers.get(name);
    headers.set(name, prev === undefined ? value : `${prev}, ${value}`);
  }
  return { ok: true, head: { method, uri, version, headers, authorization } };
}

function fold(prev: string, more: string): string {
  return prev === '' ? more : `${prev} ${more}`;
}

function malformed(message: string): ParseHeadResult {
  return { ok: false, code: 'E_MALFORMED', message };
}

/** The request's CSeq as a number, or undefined when missing or not a plain decimal number (answer 400 then). */
export function cseq(req: Pick<RtspRequest, 'headers'>): number | undefined {
  const v = req.headers.get('cseq');
  if (v === undefined || !/^\d{1,10}$/.test(v)) return undefined;
  return Number(v);
}

// ── URLs ────────────────────────────────────────────────────────────────────────────────────────────────

export interface RtspUrl {
  /** Host name or address, IPv6 without brackets; '' when the request URI was a bare path. */
  host: string;
  /** The explicit port, else the scheme's default (554 for rtsp, 322 for rtsps). */
  port: number;
  /** Percent-decoded, without leading or trailing '/', without the query or the split-off control segment. */
  path: string;
  /** Raw query without '?' ('' when none), without a control segment that a client appended to it. */
  query: string;
  /** The trailing control segment (`trackID=1`, `streamid=0`), only when asked for and present. */
  trackId?: string;
}

export interface ParseRtspUrlOptions {
  /**
   * Split a trailing control segment off the path (or off the query, see below). `true` recognises the shapes
   * clients and ffmpeg use (`trackID=N`, `streamid=N`, `track=N`, `trackN`, `streamN`); an array adds exact
   * control values taken from a publisher's SDP.
   */
  splitControl?: boolean | readonly string[];
}

const CONTROL_SEGMENT = /^(?:(?:trackid|streamid|track|stream)=\d{1,5}|(?:track|stream)\d{1,5})$/i;

/**
 * Parses an RTSP request URI. Returns undefined for anything that is not `rtsp://`, `rtsps://` or an absolute
 * path (some clients send `/path`), or when percent-decoding fails. The user-info part (`user:pass@`) is dropped:
 * credentials are read from the Authorization header.
 *
 * ffmpeg builds SETUP URLs by string concatenation, `base + "/" + control`; when the base had a query the
 * control segment ends up after it (`rtsp://h/live/s?tkn=x/streamid=0`), so that position is checked too.
 */
export function parseRtspUrl(uri: string, opts: ParseRtspUrlOptions = {}): RtspUrl | undefined {
  if (uri.length > 8192 || /[\s\x00-\x1f\x7f]/.test(uri)) return undefined;
  let host = '';
  let port = 554;
  let rest: string;
  const scheme = /^(rtsps?):\/\//i.exec(uri);
  if (scheme) {
    if (scheme[1].toLowerCase() === 'rtsps') port = 322;
    const afterScheme = uri.slice(scheme[0].length);
    const slash = afterScheme.search(/[/?#]/);
    let authority = slash === -1 ? afterScheme : afterScheme.slice(0, slash);
    rest = slash === -1 ? '' : afterScheme.slice(slash);
    const at = authority.lastIndexOf('@');
    if (at !== -1) authority = authority.slice(at + 1);
    const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*))(?::(\d{0,5}))?$/.exec(authority);
    if (!m) return undefined;
    host = (m[1] ?? m[2] ?? '').toLowerCase();
    if (host === '') return undefined;
    if (m[3] !== undefined && m[3] !== '') {
      const p = Number(m[3]);
      if (p < 1 || p > 65535) return undefined;
      port = p;
    }
  } else if (uri.startsWith('/')) {
    rest = uri;
  } else {
    return undefined;
  }

  const hash = rest.indexOf('#');
  if (hash !== -1) rest = rest.slice(0, hash);
  const q = rest.indexOf('?');
  let rawPath = q === -1 ? rest : rest.slice(0, q);
  let query = q === -1 ? '' : rest.slice(q + 1);

  let trackId: string | undefined;
  if (opts.splitControl) {
    const known = Array.isArray(opts.splitControl) ? (opts.splitControl as readonly string[]) : [];
    const isControl = (seg: string): boolean => seg !== '' && (CONTROL_SEGMENT.test(seg) || known.includes(seg));
    const qs = query.lastIndexOf('/');
    if (q !== -1 && qs !== -1 && isControl(query.slice(qs + 1))) {
      trackId = query.slice(qs + 1);
      query = query.slice(0, qs);
    } else {
      const trimmed = rawPath.replace(/\/+$/, '');
      const ps = trimmed.lastIndexOf('/');
      const seg = trimmed.slice(ps + 1);
      // Only split when something is left of the path: `rtsp://h/trackID=1` names a stream, not a track.
      if (ps > 0 && isControl(seg)) {
        trackId = seg;
        rawPath = trimmed.slice(0, ps);
      }
    }
  }

  let path: string;
  try {
    path = decodeURIComponent(rawPath.replace(/^\/+|\/+$/g, ''));
  } catch {
    return undefined;
  }
  const out: RtspUrl = { host, port, path, query };
  if (trackId !== undefined) out.trackId = trackId;
  return out;
}

/** The index N of a `trackID=N`-style control segment (what our DESCRIBE hands readers), else undefined. */
export function trackIndexOf(control: string | undefined): number | undefined {
  if (control === undefined) return undefined;
  const m = /^(?:trackid|streamid|track|stream)=?(\d{1,5})$/i.exec(control);
  return m ? Number(m[1]) : undefined;
}

/** Parses an `a=b&c=d` query (the part after '?') into a map; the first occurrence of a key wins. */
export function parseQuery(query: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq === -1 ? part : part.slice(0, eq));
    const v = eq === -1 ? '' : safeDecode(part.slice(eq + 1));
    if (k !== undefined && v !== undefined && !out.has(k)) out.set(k, v);
  }
  return out;
}

function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

// ── Responses ───────────────────────────────────────────────────────────────────────────────────────────

/** RFC 2326 §7.1.1 reason phrases (plus 505's). */
export const REASON_PHRASES: Readonly<Record<number, string>> = Object.freeze({
  100: 'Continue',
  200: 'OK',
  201: 'Created',
  250: 'Low on Storage Space',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Moved Temporarily',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Time-out',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  415: 'Unsupported Media Type',
  451: 'Parameter Not Understood',
  452: 'Conference Not Found',
  453: 'Not Enough Bandwidth',
  454: 'Session Not Found',
  455: 'Method Not Valid in This State',
  456: 'Header Field Not Valid for Resource',
  457: 'Invalid Range',
  458: 'Parameter Is Read-Only',
  459: 'Aggregate Operation Not Allowed',
  460: 'Only Aggregate Operation Allowed',
  461: 'Unsupported Transport',
  462: 'Destination Unreachable',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Time-out',
  505: 'RTSP Version Not Supported',
  551: 'Option not supported',
});

export function reasonPhrase(status: number): string {
  return REASON_PHRASES[status] ?? (status >= 200 && status < 300 ? 'OK' : 'Unknown');
}

export type ResponseHeaders = ReadonlyArray<readonly [string, string]> | Readonly<Record<string, string>>;

const UNSAFE_VALUE = /[\r\n\x00]/;

/**
 * Serializes a response: `RTSP/1.0 <status> <reason>`, the headers in the order given (an array allows a repeated
 * header such as two WWW-Authenticate challenges), and Content-Length when there is a body and the caller did not set
 * one. Throws TypeError on a CR, LF or NUL in a name or value: that is a bug in the caller (an unchecked client
 * value echoed back), and writing it would let a client inject headers.
 */
export function formatResponse(status: number, headers: ResponseHeaders, body?: Buffer | string): Buffer {
  if (!Number.isInteger(status) || status < 100 || status > 999) throw new TypeError(`bad RTSP status ${status}`);
  const pairs: ReadonlyArray<readonly [string, string]> = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [string, string]>)
    : Object.entries(headers as Record<string, string>);
  const bodyBuf = body === undefined ? undefined : typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `RTSP/1.0 ${status} ${reasonPhrase(status)}\r\n`;
  let hasLength = false;
  for (const [name, value] of pairs) {
    if (!TOKEN.test(name)) throw new TypeError(`bad header name ${JSON.stringify(name)}`);
    const v = String(value);
    if (UNSAFE_VALUE.test(v)) throw new TypeError(`header ${name} has a CR, LF or NUL in its value`);
    if (name.toLowerCase() === 'content-length') hasLength = true;
    head += `${name}: ${v}\r\n`;
  }
  if (bodyBuf !== undefined && bodyBuf.length > 0 && !hasLength) head += `Content-Length: ${bodyBuf.length}\r\n`;
  head += '\r\n';
  const headBuf = Buffer.from(head, 'utf8');
  return bodyBuf === undefined || bodyBuf.length === 0 ? headBuf : Buffer.concat([headBuf, bodyBuf]);
}
