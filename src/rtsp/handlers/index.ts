/**
 * Request dispatch, in one place for every method: version and CSeq checks, keep-alive accounting, `Require:` (551),
 * the session the request names (454), then the method's handler.
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
  // RFC 2326 §12.32: Usher supports no option a client may require (onvif-replay, play.basic, …).
  const required = req.headers.get('require');
  if (required !== undefined) {
    const options = required.split(',').map((o) => o.trim()).filter((o) => o !== '');
    if (options.length > 0) return { status: 551, headers: [['Unsupported', options.join(', ').slice(0, 1024)]] };
  }
  // Any request naming a session that does not exist is answered 454, OPTIONS included: live555ProxyServer's
  // OPTIONS keep-alive relies on it to notice that its back-end session is gone.
  const found = resolveSession(host, conn, req);
  if ('status' in found) return found;
  return h({ host, conn, req, session: found.session, named: found.named });
}
