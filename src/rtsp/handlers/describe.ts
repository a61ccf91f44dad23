/**
 * DESCRIBE: admission for a reader (the session its SETUP creates reuses this decision), then the stream's SDP with
 * controls rewritten to trackID=N and Content-Base set to the stream URL, so SETUP URLs resolve against it.
 */
import type { Reply } from '../conn.js';
import { admit } from './admission.js';
import { requestUrl, status, type Ctx } from './context.js';

export async function describe(ctx: Ctx): Promise<Reply> {
  const { server, conn, req } = ctx;
  const url = requestUrl(req);
  if (!url) return status(400);

  // A repeated DESCRIBE of the same stream with the same credentials keeps its admission.
  let held = conn.pending;
  if (held && (held.ticket.stream !== url.path || held.ticket.credential !== `${url.query}\0${req.authorization[0] ?? ''}`)) held = undefined;
  if (!held) {
    const sid = server.newSessionId();
    const a = await admit(ctx, url, 'play', sid);
    if (!a.ok) return a.reply;
    held = { ticket: a.ticket, sid };
  }

  const stream = server.catalogue.lookup(url.path);
  if (!stream || conn.closed) {
    if (conn.pending?.ticket === held.ticket) conn.pending = undefined;
    server.release(held.ticket, 'stream not found');
    return status(404);
  }
  server.holdPending(conn, held.ticket, held.sid);
  // The base is the stream URL without its query: clients that resolve `trackID=N` by RFC 3986 (GStreamer) would
  // otherwise drop the stream name, and those that append it (ffmpeg, live555) need no token in SETUP anyway:
  // the SETUP on this connection takes this DESCRIBE's admission.
  const bare = req.uri.split(/[?#]/)[0];
  const base = bare.endsWith('/') ? bare : `${bare}/`;
  return {
    status: 200,
    headers: [
      ['Content-Base', base],
      ['Content-Type', 'application/sdp'],
    ],
    body: stream.readerSdp,
  };
}
