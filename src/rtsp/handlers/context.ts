/**
 * What every request handler gets, and the helpers they share: the request URL, the session a request names,
 * short replies.
 */
import type { Reply, RtspConn } from '../conn.js';
import { parseRtspUrl, parseSessionHeader, type RtspRequest, type RtspUrl } from '../protocol/index.js';
import type { RtspServer } from '../server.js';
import { checkState, SessionState, type RtspSession } from '../session.js';

export interface Ctx {
  server: RtspServer;
  conn: RtspConn;
  req: RtspRequest;
}

export type Handler = (ctx: Ctx) => Reply | Promise<Reply>;

export const PUBLIC_METHODS = 'OPTIONS, DESCRIBE, ANNOUNCE, SETUP, PLAY, RECORD, PAUSE, GET_PARAMETER, SET_PARAMETER, TEARDOWN';

export function status(code: number, headers?: Array<[string, string]>): Reply {
  return headers ? { status: code, headers } : { status: code };
}

/** The request URL; `split` separates a trailing track control (SETUP). */
export function requestUrl(req: RtspRequest, split = false): RtspUrl | undefined {
  return parseRtspUrl(req.uri, split ? { splitControl: true } : {});
}

export type Found = { session: RtspSession } | { session: undefined; named: boolean } | { reply: Reply };

/**
 * The session a request is about: the one its Session header names (454 when unknown, or when it is a TCP session
 * of another connection), else the connection's only session (clients that forget the header), else none.
 * A UDP session named from a new connection is picked up by it.
 */
export function findSession(ctx: Ctx): Found {
  const { server, conn, req } = ctx;
  const h = req.headers.get('session');
  if (h !== undefined) {
    const parsed = parseSessionHeader(h);
    const s = parsed ? server.sessions.get(parsed.id) : undefined;
    if (!s || s.closed) return { reply: status(454) };
    if (s.conn !== conn) {
      if (s.conn !== undefined && s.transport !== 'UDP') return { reply: status(454) };
      s.conn?.sessions.delete(s);
      s.conn = conn;
      conn.sessions.add(s);
    }
    s.touch();
    return { session: s };
  }
  if (conn.sessions.size === 1) {
    const s = conn.sessions.values().next().value as RtspSession;
    s.touch();
    return { session: s };
  }
  return { session: undefined, named: false };
}

/** A request that needs a session in one of `allowed` states: the session, or the reply (454/455). */
export function sessionIn(ctx: Ctx, allowed: readonly SessionState[]): RtspSession | Reply {
  const f = findSession(ctx);
  if ('reply' in f) return f.reply;
  if (!f.session) {
    // No session yet is the Initial state (e.g. PLAY before SETUP).
    const bad = checkState(SessionState.Initial, allowed);
    return { status: bad ? 455 : 454 };
  }
  const bad = f.session.checkState(allowed);
  if (bad) return { status: 455, session: f.session };
  return f.session;
}
