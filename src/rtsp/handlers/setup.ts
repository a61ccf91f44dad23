/**
 * SETUP, for both kinds.
 * - Input (its session made by ANNOUNCE, state PreRecord): which announced media the URL names, and a
 *   `mode=record` transport: interleaved channels (TCP) or a UDP port pair of its own.
 * - Viewer: the first SETUP creates the RTSP session (state PrePlay), reusing the DESCRIBE's admission or, without
 *   one, asking admission now; each SETUP adds a track (`trackID=N`) over TCP interleaving or UDP.
 * The answer echoes the chosen transport, with `interleaved=` or `client_port=` + `server_port=`, and `ssrc=` when
 * the track's SSRC is known.
 */
import type { Ctx, Reply } from '../defs.js';
import {
  findMediaForSetup,
  formatTransport,
  parseRtspUrl,
  pickTransport,
  trackIndexOf,
  type TransportSpec,
} from '../protocol/index.js';
import { SessionState, type RtspSession } from '../session.js';
import { TcpSink, UdpSink } from '../sink.js';
import type { MediaStream } from '../stream.js';
import { admit, presentedBy } from './admission.js';
import { requestUrl, status } from './context.js';

/** Sessions one connection may hold at once (a player needs one; a test client a few). */
const MAX_SESSIONS_PER_CONN = 16;

export async function setup(ctx: Ctx): Promise<Reply> {
  const transportHeader = ctx.req.headers.get('transport');
  if (transportHeader === undefined) return status(400);
  const s = ctx.session;
  if (s?.kind === 'input') return setupRecord(ctx, s, transportHeader);
  return setupPlay(ctx, s, transportHeader);
}

// ── input ──────────────────────────────────────────────────────────────────────────────────────────

async function setupRecord(ctx: Ctx, s: RtspSession, transportHeader: string): Promise<Reply> {
  const { host, req } = ctx;
  if (s.check([SessionState.PreRecord])) return { status: 455, session: s };
  const stream = s.stream!;
  let idx = findMediaForSetup(stream.sdp, req.uri);
  if (idx === undefined) {
    const controls = stream.sdp.media.map((m) => m.control).filter((c): c is string => c !== undefined && c !== '');
    idx = trackIndexOf(parseRtspUrl(req.uri, { splitControl: controls })?.trackId);
  }
  if (idx === undefined || idx >= stream.tracks.length) return { status: 404, session: s };
  if (s.setupUrls[idx] !== undefined) return { status: 400, session: s };
  const spec = pickTransport(transportHeader, { mode: 'record' });
  if (!spec || (s.transport !== undefined && s.transport !== spec.lowerTransport)) return { status: 461, session: s };

  const out: TransportSpec = { profile: spec.profile, lowerTransport: spec.lowerTransport, delivery: 'unicast', mode: 'record' };
  if (spec.lowerTransport === 'TCP') {
    const [rtp, rtcp] = spec.interleaved ?? [2 * idx, 2 * idx + 1];
    if (rtp === rtcp || s.inMap[rtp] !== -1 || s.inMap[rtcp] !== -1) return { status: 400, session: s };
    s.inMap[rtp] = 2 * idx;
    s.inMap[rtcp] = 2 * idx + 1;
    stream.setInChannel(2 * idx, rtp);
    stream.setInChannel(2 * idx + 1, rtcp);
    out.interleaved = [rtp, rtcp];
  } else {
    let pair;
    try {
      pair = await host.allocateUdpPair();
    } catch (err) {
      host.log.warn({ err: (err as Error).message }, 'no UDP port pair for an input');
      return { status: 453, session: s };
    }
    if (s.closed) {
      pair.close();
      return status(454);
    }
    const slot = 2 * idx;
    pair.onRtp = (m, r) => s.onDatagram(slot, m, r.address);
    pair.onRtcp = (m, r) => s.onDatagram(slot + 1, m, r.address);
    s.udpPairs.push(pair);
    out.clientPort = spec.clientPort;
    out.serverPort = [pair.rtpPort, pair.rtcpPort];
  }
  s.transport = spec.lowerTransport;
  s.setupUrls[idx] = req.uri;
  return { status: 200, session: s, headers: [['Transport', formatTransport(out)]] };
}

// ── viewer ─────────────────────────────────────────────────────────────────────────────────────────

async function setupPlay(ctx: Ctx, existing: RtspSession | undefined, transportHeader: string): Promise<Reply> {
  const { host, conn, req } = ctx;
  const url = requestUrl(req, true);
  if (!url) return status(400);
  const spec = pickTransport(transportHeader, { mode: 'play', udp: host.readerPair !== undefined });

  if (existing) {
    if (existing.check([SessionState.PrePlay])) return { status: 455, session: existing };
    const stream = existing.stream!;
    if (stream.name !== url.path) return { status: 400, session: existing };
    return addTrack(ctx, existing, stream, url.trackId, spec);
  }

  // A new viewer session. A refused SETUP does not use up an admission (SPEC §5): the transport is checked before
  // one is taken, and the DESCRIBE's stays held when the stream or the track is wrong.
  if (!spec) return status(461);
  let s = conn.pending;
  const fresh = !s || s.ticket!.stream !== url.path;
  if (fresh) {
    if (conn.sessions.size >= MAX_SESSIONS_PER_CONN) return status(503);
    s = host.newSession(conn, 'viewer');
    // The credential this connection gave for the stream stays good for it: a SETUP outside a session (after a
    // TEARDOWN, or a TCP retry after a 461) that presents none of its own is admitted with it.
    const own = presentedBy(ctx, url);
    const p = own.query === '' && own.authorization.length === 0 ? (conn.presented(url.path) ?? own) : own;
    const refused = await admit(ctx, s, url.path, p);
    if (refused) return refused;
    conn.remember(url.path, p);
  }
  const viewer = s!;
  const stream = host.stream(url.path);
  const idx = stream === undefined ? undefined : trackOf(stream, url.trackId);
  let bad = stream === undefined || idx === undefined || conn.closed ? 404 : undefined;
  if (bad === undefined && spec.lowerTransport === 'TCP' && spec.interleaved !== undefined && spec.interleaved[0] === spec.interleaved[1]) bad = 400;
  if (bad !== undefined) {
    if (fresh) viewer.close(stream === undefined ? 'stream not found' : idx === undefined ? 'track not found' : 'bad setup', 'keep');
    return status(bad);
  }
  if (!viewer.setUpViewer(stream!)) {
    viewer.close('stream removed', 'keep');
    return status(404);
  }
  const r = addTrack(ctx, viewer, stream!, url.trackId, spec);
  if (r.status !== 200) viewer.close('bad setup', 'keep'); // not reached: the checks above are addTrack's for a first track
  return r;
}

function trackOf(stream: MediaStream, control: string | undefined): number | undefined {
  const i = trackIndexOf(control);
  if (i === undefined) return stream.tracks.length === 1 && control === undefined ? 0 : undefined;
  return i < stream.tracks.length ? i : undefined;
}

function addTrack(ctx: Ctx, s: RtspSession, stream: MediaStream, control: string | undefined, spec: TransportSpec | undefined): Reply {
  const { host, conn, req } = ctx;
  const idx = trackOf(stream, control);
  if (idx === undefined) return { status: 404, session: s };
  if (s.setupUrls[idx] !== undefined) return { status: 400, session: s };
  if (!spec || (s.transport !== undefined && s.transport !== spec.lowerTransport)) return { status: 461, session: s };

  const track = stream.tracks[idx];
  const out: TransportSpec = { profile: spec.profile, lowerTransport: spec.lowerTransport, delivery: 'unicast' };
  if (spec.lowerTransport === 'TCP') {
    let sink = s.sink;
    if (sink === undefined) {
      const socket = conn.out;
      sink = new TcpSink(socket, stream.slots, host.cfg.maxReaderQueueBytes, () => {
        host.log.warn({ session: s.id, stream: stream.name, queued: socket.writableLength }, 'RTSP viewer too slow: dropped');
        s.close('slow reader');
      });
      s.sink = sink;
    }
    if (!(sink instanceof TcpSink)) return { status: 461, session: s };
    let ch = spec.interleaved;
    if (ch === undefined) {
      let c = 2 * idx;
      while (c < 254 && (sink.usesChannel(c) || sink.usesChannel(c + 1))) c += 2;
      ch = [c, c + 1];
    }
    if (ch[0] === ch[1] || sink.usesChannel(ch[0]) || sink.usesChannel(ch[1])) return { status: 400, session: s };
    sink.setTrack(idx, ch[0], ch[1]);
    out.interleaved = ch;
  } else {
    const pair = host.readerPair!;
    let sink = s.sink;
    if (sink === undefined) {
      sink = new UdpSink(pair, conn.ip, stream.slots);
      s.sink = sink;
    }
    if (!(sink instanceof UdpSink)) return { status: 461, session: s };
    const [rtp, rtcp] = spec.clientPort!;
    sink.setTrack(idx, rtp, rtcp);
    host.listenRtcp(s, conn.ip, rtcp);
    out.clientPort = [rtp, rtcp];
    out.serverPort = [pair.rtpPort, pair.rtcpPort];
  }
  if (track.ssrc !== undefined) out.ssrc = track.ssrc;
  s.transport = spec.lowerTransport;
  s.setupUrls[idx] = req.uri;
  return { status: 200, session: s, headers: [['Transport', formatTransport(out)]] };
}
