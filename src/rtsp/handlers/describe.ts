/**
 * DESCRIBE: admission for a viewer (held on the connection; the session its SETUP creates reuses this decision),
 * then the stream's SDP with controls rewritten to trackID=N and Content-Base set to the stream URL, so SETUP URLs
 * resolve against it.
 */
import type { Ctx, Reply } from '../defs.js';
import { admit, credentialKey, presentedBy } from './admission.js';
import { requestUrl, status } from './context.js';

export async function describe(ctx: Ctx): Promise<Reply> {
  const { host, conn, req } = ctx;
  const url = requestUrl(req);
  if (!url) return status(400);
  const p = presentedBy(ctx, url);

  // A repeated DESCRIBE of the same stream with the same credentials keeps its admission.
  let s = conn.pending;
  if (s && (s.ticket!.stream !== url.path || s.ticket!.credential !== credentialKey(p))) s = undefined;
  if (!s) {
    s = host.newSession(conn, 'viewer');
    const refused = await admit(ctx, s, url.path, p);
    if (refused) return refused;
  }

  const stream = host.stream(url.path);
  if (!stream || conn.closed) {
    s.close('stream not found', 'keep');
    return status(404);
  }
  conn.hold(s);
  conn.remember(url.path, p);
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
