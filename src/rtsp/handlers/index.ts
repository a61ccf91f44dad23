/** Request dispatch: version and CSeq checks, keep-alive accounting, then the method's handler. */
import type { Reply, RtspConn } from '../conn.js';
import { cseq, type RtspRequest } from '../protocol/index.js';
import type { RtspServer } from '../server.js';
import { announce } from './announce.js';
import { PUBLIC_METHODS, type Handler } from './context.js';
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

export function dispatch(server: RtspServer, conn: RtspConn, req: RtspRequest): Reply | Promise<Reply> {
  if (req.version !== 'RTSP/1.0') return { status: 505 };
  if (cseq(req) === undefined) return { status: 400, close: true };
  // Any request keeps the connection's sessions alive (GET_PARAMETER and OPTIONS are the usual keep-alives).
  for (const s of conn.sessions) s.touch();
  const h = Object.prototype.hasOwnProperty.call(HANDLERS, req.method) ? HANDLERS[req.method] : undefined;
  if (!h) return { status: 501, headers: [['Public', PUBLIC_METHODS]] };
  return h({ server, conn, req });
}
