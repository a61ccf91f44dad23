/**
 * Request dispatch: version and CSeq checks, keep-alive accounting, the session the request names, then the method's
 * handler.
 */
import type { HandlerConn, HandlerHost, Reply } from '../defs.js';
import { cseq, type RtspRequest } from '../protocol/index.js';
import { announce } from './announce.js';
import { PUBLIC_METHODS, resolveSession, type Handler } from './context.js';
import { describe } from './describe.js';
import { options } from './options.js';
import { parameter } from './parameter.js';
import { pause, play } from './play.js';
import { record } from './record.js';
import { setup } from './setup.js';
import { teardown } from './teardown.js';

const HANDLERS: Readonly<Record<string, Handler>> = {
  OPTIONS: options,
  DESCRIBE: describe,
  ANNOUNCE: announce,
  SETUP: setup,
  PLAY: play,
  RECORD: record,
  PAUSE: pause,
  TEARDOWN: teardown,
  GET_PARAMETER: parameter,
  SET_PARAMETER: parameter,
};

export function dispatch(host: HandlerHost, conn: HandlerConn, req: RtspRequest): Reply | Promise<Reply> {
  if (req.version !== 'RTSP/1.0') return { status: 505 };
  if (cseq(req) === undefined) return { status: 400, close: true };
  // Any request keeps the connection's sessions alive (GET_PARAMETER and OPTIONS are the usual keep-alives).
  for (const s of conn.sessions) s.touch();
  const h = Object.prototype.hasOwnProperty.call(HANDLERS, req.method) ? HANDLERS[req.method] : undefined;
  if (!h) return { status: 501, headers: [['Public', PUBLIC_METHODS]] };
  const found = resolveSession(host, conn, req);
  if ('status' in found) {
    // Kept as before the reshape: OPTIONS answers 200 even for a session that does not exist.
    if (req.method !== 'OPTIONS') return found;
    return h({ host, conn, req, session: undefined, named: false });
  }
  return h({ host, conn, req, session: found.session, named: found.named });
}
