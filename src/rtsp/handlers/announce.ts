/**
 * ANNOUNCE: an input offers a stream. The SDP is checked first (400), then admission (publish), then the path: a
 * taken path is let go by its occupant or refused (403) as the host decides. The RTSP session is created here
 * (state PreRecord) and named in the answer.
 */
import type { Ctx, Reply } from '../defs.js';
import { parseSdp } from '../protocol/index.js';
import { admit, presentedBy } from './admission.js';
import { requestUrl, status } from './context.js';

export async function announce(ctx: Ctx): Promise<Reply> {
  const { host, conn, req } = ctx;
  const url = requestUrl(req);
  if (!url) return status(400);
  for (const s of conn.sessions) if (s.kind === 'input' && s.established) return { status: 455, session: s };
  const type = req.headers.get('content-type');
  if (type !== undefined && !/^application\/sdp\b/i.test(type)) return status(415);
  const parsed = parseSdp(req.body);
  if (!parsed.ok) return status(400);

  const s = host.newSession(conn, 'input');
  const p = presentedBy(ctx, url);
  const refused = await admit(ctx, s, url.path, p);
  if (refused) return refused;
  if (conn.closed) {
    s.close('connection closed', 'lost');
    return status(400);
  }

  const occupant = host.stream(url.path);
  if (occupant && !host.takeOver(occupant, s.ticket!)) {
    s.close('E_STREAM_BUSY: someone is already publishing this stream', 'keep');
    return status(403);
  }
  const stream = host.createStream(url.path, parsed.sdp);
  s.announce(stream);
  conn.remember(url.path, p);
  host.log.info({ stream: stream.name, session: s.id, ip: conn.ip, tracks: stream.tracks.length }, 'RTSP input announced');
  return { status: 200, session: s };
}
