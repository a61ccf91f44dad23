/**
 * Helpers the request handlers share: the request URL, short replies, the methods served, and which session a
 * request is about.
 */
import type { Ctx, HandlerConn, HandlerHost, Reply } from '../defs.js';
import { parseRtspUrl, parseSessionHeader, type RtspRequest, type RtspUrl } from '../protocol/index.js';
import { checkState, SessionState, type RtspSession } from '../session.js';

export type { Ctx, Handler } from '../defs.js';

export const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, GET_PARAMETER, SET_PARAMETER, TEARDOWN';

export function status(code: number, headers?: Array<[string, string]>): Reply {
  return headers ? { status: code, headers } : { status: code };
}

/** The request URL; `split` separates a trailing track control (SETUP). */
export function requestUrl(req: RtspRequest, split = false): RtspUrl | undefined {
  return parseRtspUrl(req.uri, split ? { splitControl: true } : {});
}

/**
 * The session a request is about: the one its Session header names (a reply of 454 when there is none such, or
 * when it is a TCP session of another connection), else the connection's only established session (clients that
 * forget the header), else none. A UDP session named from a new connection is picked up by it.
 */
export function resolveSession(host: HandlerHost, conn: HandlerConn, req: RtspRequest): { session: RtspSession | undefined; named: boolean } | Reply {
  const h = req.headers.get('session');
  if (h !== undefined) {
    const parsed = parseSessionHeader(h);
    const s = parsed ? host.session(parsed.id) : undefined;
    if (!s) return status(454);
    if (s.conn !== conn) {
      if (s.conn !== undefined && s.transport !== 'UDP') return status(454);
      s.moveTo(conn);
    }
    s.touch();
    return { session: s, named: true };
  }
  let only: RtspSession | undefined;
  for (const s of conn.sessions) {
    if (!s.established) continue;
    if (only) return { session: undefined, named: false };
    only = s;
  }
  only?.touch();
  return { session: only, named: false };
}

/** A request that needs a session in one of `allowed` states: the session, or the reply (454/455). */
export function sessionIn(ctx: Ctx, allowed: readonly SessionState[]): RtspSession | Reply {
  const s = ctx.session;
  if (!s) {
    // No session yet is the Initial state (e.g. PLAY before SETUP).
    const bad = checkState(SessionState.Initial, allowed);
    return { status: bad ? 455 : 454 };
  }
  if (s.check(allowed)) return { status: 455, session: s };
  return s;
}
