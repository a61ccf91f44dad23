/**
 * The Session header (RFC 2326 §12.37): `Session: 12345678;timeout=60`. The server names the session in its SETUP
 * reply and the client repeats the id on every later request; the timeout tells the client how often to send a
 * keep-alive (GET_PARAMETER or OPTIONS) before the server reaps the session.
 */
import { randomBytes } from 'node:crypto';

export interface SessionHeader {
  id: string;
  /** Seconds; present only when the header said so. */
  timeout?: number;
}

// RFC 2326: session-id = 1*( ALPHA | DIGIT | safe ), safe = "$" | "-" | "_" | "." | "+". Clients echo what we sent;
// a bound on the length keeps a hostile id from being used as a map key of any size.
const SESSION_ID = /^[A-Za-z0-9$\-_.+]{1,128}$/;

export function isValidSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** Parses a Session header value; undefined when the id is missing or not a valid session id. */
export function parseSessionHeader(value: string): SessionHeader | undefined {
  const parts = value.split(';');
  const id = parts[0].trim();
  if (!SESSION_ID.test(id)) return undefined;
  const out: SessionHeader = { id };
  for (let i = 1; i < parts.length; i++) {
    const p = parts[i].trim();
    const eq = p.indexOf('=');
    if (eq === -1) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== 'timeout') continue; // other parameters are ignored
    const v = p.slice(eq + 1).trim();
    if (!/^\d{1,9}$/.test(v)) return undefined;
    out.timeout = Number(v);
  }
  return out;
}

/** Formats `id` or `id;timeout=N`. Throws on an invalid id or timeout: both come from the server, so that is a bug. */
export function formatSessionHeader(s: SessionHeader): string {
  if (!SESSION_ID.test(s.id)) throw new TypeError(`invalid RTSP session id ${JSON.stringify(s.id)}`);
  if (s.timeout === undefined) return s.id;
  if (!Number.isInteger(s.timeout) || s.timeout < 0 || s.timeout > 999_999_999) {
    throw new TypeError(`invalid session timeout ${s.timeout}`);
  }
  return `${s.id};timeout=${s.timeout}`;
}

/** A new unguessable session id (16 hex digits by default). Pass the random bytes to make it deterministic in tests. */
export function newSessionId(random: Buffer = randomBytes(8)): string {
  return random.toString('hex');
}
