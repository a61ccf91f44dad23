/**
 * Bounds on what a request may carry into admission, whatever protocol it came by (SPEC §3 bounds). The HTTP API
 * validates its own fields; hooks and the RTSP server hand over what their peers sent, so the pipeline cuts every field
 * to its bound here, once: nothing a client sends can make a stored row, a denial counter or denied memory large.
 */
import { isIP } from 'node:net';
import type { AdmissionRequest } from './types.js';

export const MAX_IP = 64;
export const MAX_CLIENT_ID = 256;
export const MAX_USER_AGENT = 256;
export const MAX_PROTOCOL = 32;
export const MAX_USER = 256;
/**
 * Connections one session (one key) may hold at once, on any server: a key reconnecting without closing, or RTSP UDP
 * viewers (which outlive their connections), cannot pile up more.
 */
export const MAX_CONNECTIONS_PER_SESSION = 16;
/** A credential longer than this is not one Usher or a site would issue: refused before it is looked at. */
export const MAX_TOKEN = 8192;

/** An address as a server reported it: an IP as is; anything else (a host name, garbage) cut to MAX_IP. */
export function boundedIp(ip: string): string {
  return isIP(ip) !== 0 || ip.length <= MAX_IP ? ip : ip.slice(0, MAX_IP);
}

const cut = (v: string | undefined, max: number): string | undefined => (v === undefined || v.length <= max ? v : v.slice(0, max));

/** The request with every free-text field cut to its bound (the token and password are never cut: see MAX_TOKEN). */
export function bounded(req: AdmissionRequest): AdmissionRequest {
  if (req.ip.length <= MAX_IP && (req.clientId?.length ?? 0) <= MAX_CLIENT_ID && (req.userAgent?.length ?? 0) <= MAX_USER_AGENT
    && req.protocol.length <= MAX_PROTOCOL && (req.user?.length ?? 0) <= MAX_USER) return req;
  return {
    ...req,
    ip: boundedIp(req.ip),
    clientId: cut(req.clientId, MAX_CLIENT_ID),
    userAgent: cut(req.userAgent, MAX_USER_AGENT),
    protocol: req.protocol.slice(0, MAX_PROTOCOL),
    user: cut(req.user, MAX_USER),
  };
}

/**
 * Refusals of one verified credential recorded in full (a row, a remembered key) per minute; past that they are
 * counted like refusals that name nobody. So one viewer's token tried against a thousand streams costs a counter,
 * not a thousand rows. Bounded itself: it tracks at most `maxCredentials`, forgetting the oldest.
 */
export class DenialBudget {
  private readonly used = new Map<string, { since: number; n: number }>();

  constructor(private readonly perMinute = 10, private readonly maxCredentials = 10_000) {}

  /** True while `credential` may still be recorded in full this minute. */
  take(credential: string, now: number): boolean {
    let u = this.used.get(credential);
    if (u === undefined || now - u.since >= 60_000) {
      this.used.delete(credential);
      u = { since: now, n: 0 };
      this.used.set(credential, u);
      if (this.used.size > this.maxCredentials) this.used.delete(this.used.keys().next().value!);
    }
    return ++u.n <= this.perMinute;
  }
}
