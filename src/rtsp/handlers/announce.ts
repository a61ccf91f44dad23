/**
 * ANNOUNCE: a publisher offers a stream. The SDP is checked first (400), then admission (publish), then the path:
 * a second publisher is refused (403) or, with rtsp.onBusyPath=replace, takes the path over. The RTSP session is
 * created here (state PreRecord) and named in the answer.
 */
import type { Reply } from '../conn.js';
import { parseSdp } from '../protocol/index.js';
import { SessionState } from '../session.js';
import { admit } from './admission.js';
import { requestUrl, status, type Ctx } from './context.js';

export async function announce(ctx: Ctx): Promise<Reply> {
  const { server, conn, req } = ctx;
  const url = requestUrl(req);
  if (!url) return status(400);
  for (const s of conn.sessions) if (s.role === 'publisher') return { status: 455, session: s };
  const type = req.headers.get('content-type');
  if (type !== undefined && !/^application\/sdp\b/i.test(type)) return status(415);
  const parsed = parseSdp(req.body);
  if (!parsed.ok) return status(400);

  const sid = server.newSessionId();
  const a = await admit(ctx, url, 'publish', sid);
  if (!a.ok) return a.reply;
  const ticket = a.ticket;
  if (conn.closed) {
    server.release(ticket, 'connection closed');
    return status(400);
  }

  const busy = server.catalogue.lookup(url.path);
  if (busy) {
    if (server.cfg.onBusyPath === 'refuse') {
      server.release(ticket, 'E_STREAM_BUSY: someone is already publishing this stream');
      return status(403);
    }
    server.replacePublisher(busy);
  }

  const stream = server.catalogue.create(url.path, parsed.sdp);
  const s = server.createSession(sid, 'publisher', ticket, conn);
  s.stream = stream;
  s.state = SessionState.PreRecord;
  stream.setPublisher(s);
  server.log.info({ stream: stream.name, session: s.id, ip: conn.ip, tracks: stream.tracks.length }, 'RTSP publisher announced');
  return { status: 200, session: s };
}
