/**
 * The Transport header (RFC 2326 §12.39): the client lists the transports it can use, most preferred first, and the
 * server answers with the one it picked, adding its own parameters (server_port, ssrc, interleaved channels).
 *
 *   Transport: RTP/AVP/TCP;unicast;interleaved=0-1;mode=record
 *   Transport: RTP/AVP/UDP;unicast;client_port=5000-5001;mode=record,RTP/AVP/TCP;unicast
 */

export type LowerTransport = 'UDP' | 'TCP';
export type Delivery = 'unicast' | 'multicast';
export type TransportMode = 'play' | 'record';

export interface TransportSpec {
  /** Upper-cased transport/profile, e.g. 'RTP/AVP' or 'RTP/AVPF' (what the server relays is RTP/AVP). */
  profile: string;
  /** 'UDP' when the spec did not say (the RFC default). */
  lowerTransport: LowerTransport;
  /** Undefined when absent; servers (live555, gortsplib) treat that as unicast, and so does pickTransport. */
  delivery?: Delivery;
  /** RTP and RTCP channel numbers for TCP interleaving. */
  interleaved?: [number, number];
  clientPort?: [number, number];
  serverPort?: [number, number];
  /** Multicast RTP/RTCP ports. */
  port?: [number, number];
  /** Undefined when absent, which RFC 2326 says means play. */
  mode?: TransportMode;
  /** 32-bit SSRC (sent as hex). */
  ssrc?: number;
  destination?: string;
  source?: string;
  ttl?: number;
}

export type ParsedSpec = { ok: true; spec: TransportSpec } | { ok: false; message: string };

const MAX_SPECS = 16;

/** Parses one transport spec (no commas outside quotes). */
export function parseTransportSpec(text: string): ParsedSpec {
  const params = splitOutsideQuotes(text, ';').map((p) => p.trim());
  const head = params[0];
  if (head === undefined || head === '') return bad('empty transport spec');
  const m = /^([A-Za-z][A-Za-z0-9]*\/[A-Za-z][A-Za-z0-9]*)(?:\/([A-Za-z]+))?$/.exec(head);
  if (!m) return bad(`bad transport protocol ${JSON.stringify(head)}`);
  const lower = (m[2] ?? 'UDP').toUpperCase();
  if (lower !== 'UDP' && lower !== 'TCP') return bad(`unknown lower transport ${m[2]}`);
  const spec: TransportSpec = { profile: m[1].toUpperCase(), lowerTransport: lower };

  for (let i = 1; i < params.length; i++) {
    const p = params[i];
    if (p === '') continue; // tolerate "a;;b" and a trailing ';'
    const eq = p.indexOf('=');
    const name = (eq === -1 ? p : p.slice(0, eq)).trim().toLowerCase();
    const value = eq === -1 ? undefined : unquote(p.slice(eq + 1).trim());
    switch (name) {
      case 'unicast':
      case 'multicast':
        if (value !== undefined) return bad(`${name} takes no value`);
        spec.delivery = name;
        break;
      case 'interleaved': {
        const r = parseRange(value, 255);
        if (!r) return bad(`bad interleaved=${value}`);
        spec.interleaved = r;
        break;
      }
      case 'client_port':
      case 'server_port':
      case 'port': {
        const r = parseRange(value, 65535);
        if (!r) return bad(`bad ${name}=${value}`);
        if (name === 'client_port') spec.clientPort = r;
        else if (name === 'server_port') spec.serverPort = r;
        else spec.port = r;
        break;
      }
      case 'mode': {
        const v = value?.toLowerCase();
        // 'receive' is RFC 2326's older spelling of record (seen in old Real/QuickTime clients).
        if (v === 'play') spec.mode = 'play';
        else if (v === 'record' || v === 'receive') spec.mode = 'record';
        else return bad(`unsupported mode=${value}`);
        break;
      }
      case 'ssrc': {
        if (value === undefined || !/^[0-9A-Fa-f]{1,8}$/.test(value)) return bad(`bad ssrc=${value}`);
        spec.ssrc = parseInt(value, 16);
        break;
      }
      case 'ttl': {
        if (value === undefined || !/^\d{1,3}$/.test(value) || Number(value) > 255) return bad(`bad ttl=${value}`);
        spec.ttl = Number(value);
        break;
      }
      case 'destination':
      case 'source': {
        // The value is a host; refuse anything that could smuggle separators back into a reply.
        if (value === undefined || value === '' || !/^[A-Za-z0-9.:\-_[\]%]{1,255}$/.test(value)) {
          return bad(`bad ${name}=${value}`);
        }
        spec[name] = value;
        break;
      }
      default:
        // RFC 2326: unknown parameters are ignored (append, layers, rtcp-mux, …).
        break;
    }
  }
  return { ok: true, spec };
}

/**
 * Parses a whole Transport header: every spec, each parsed or refused on its own, so that one spec the server does
 * not understand does not hide an acceptable one after it. At most 16 specs are looked at.
 */
export function parseTransportHeader(value: string): ParsedSpec[] {
  return splitOutsideQuotes(value, ',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .slice(0, MAX_SPECS)
    .map(parseTransportSpec);
}

export interface TransportPolicy {
  /** Accept RTP over TCP interleaving (default true). */
  tcp?: boolean;
  /** Accept RTP over UDP unicast (default true). */
  udp?: boolean;
  /** Accept multicast (default false: the server does not send multicast). */
  multicast?: boolean;
  /** When set, only specs whose mode (absent = play) equals it are acceptable. */
  mode?: TransportMode;
}

/**
 * The first spec of the header the server can serve: an RTP/AVP (or AVPF, whose packets are the same) spec, over an
 * allowed lower transport, with client ports when it is UDP unicast. Undefined means answer 461.
 */
export function pickTransport(value: string, policy: TransportPolicy = {}): TransportSpec | undefined {
  for (const r of parseTransportHeader(value)) {
    if (r.ok && acceptable(r.spec, policy)) return r.spec;
  }
  return undefined;
}

function acceptable(s: TransportSpec, p: TransportPolicy): boolean {
  if (s.profile !== 'RTP/AVP' && s.profile !== 'RTP/AVPF') return false;
  if (p.mode !== undefined && (s.mode ?? 'play') !== p.mode) return false;
  const multicast = s.delivery === 'multicast';
  if (multicast) return p.multicast === true && s.lowerTransport === 'UDP';
  if (s.lowerTransport === 'TCP') return p.tcp !== false;
  return p.udp !== false && s.clientPort !== undefined;
}

/**
 * Formats one spec for a reply (or a request). Parameter order is fixed; UDP is written as plain `RTP/AVP` (the RFC
 * default), which every client understands.
 */
export function formatTransport(s: TransportSpec): string {
  const parts: string[] = [s.lowerTransport === 'TCP' ? `${s.profile}/TCP` : s.profile];
  if (s.delivery) parts.push(s.delivery);
  if (s.destination !== undefined) parts.push(`destination=${s.destination}`);
  if (s.source !== undefined) parts.push(`source=${s.source}`);
  if (s.interleaved) parts.push(`interleaved=${range(s.interleaved)}`);
  if (s.clientPort) parts.push(`client_port=${range(s.clientPort)}`);
  if (s.serverPort) parts.push(`server_port=${range(s.serverPort)}`);
  if (s.port) parts.push(`port=${range(s.port)}`);
  if (s.ttl !== undefined) parts.push(`ttl=${s.ttl}`);
  if (s.ssrc !== undefined) parts.push(`ssrc=${(s.ssrc >>> 0).toString(16).toUpperCase().padStart(8, '0')}`);
  if (s.mode) parts.push(`mode=${s.mode}`);
  return parts.join(';');
}

function range(r: readonly [number, number]): string {
  return `${r[0]}-${r[1]}`;
}

/** "a-b" or "a" (meaning a and a+1, as clients that send one port expect), each within [0, max]. */
function parseRange(v: string | undefined, max: number): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(v);
  if (!m) return undefined;
  const a = Number(m[1]);
  const b = m[2] === undefined ? a + 1 : Number(m[2]);
  if (a > max || b > max) return undefined;
  return [a, b];
}

function unquote(v: string): string {
  return v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
}

/** Splits on sep, except inside double quotes (mode="PLAY" may legally be quoted). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const out: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function bad(message: string): ParsedSpec {
  return { ok: false, message };
}
