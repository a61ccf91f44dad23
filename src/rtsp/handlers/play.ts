/**
 * PLAY (live: always from now, `Range: npt=0.000-`) with RTP-Info per set-up track (its SETUP URL, and the sequence
 * number and timestamp that follow the last packet seen, so players sync at once). Packets start after the answer.
 * PAUSE stops them (Play → PrePlay, Record → PreRecord).
 */
import type { Ctx, Reply } from '../defs.js';
import { formatRtpInfo, type RtpInfoEntry } from '../protocol/index.js';
import { RtspSession, SessionState } from '../session.js';
import { sessionIn } from './context.js';

export function play(ctx: Ctx): Reply {
  const s = sessionIn(ctx, [SessionState.PrePlay, SessionState.Play]);
  if (!(s instanceof RtspSession)) return s;
  const entries: RtpInfoEntry[] = [];
  s.stream!.tracks.forEach((t, i) => {
    const url = s.setupUrls[i];
    if (url !== undefined) entries.push(t.rtpInfo(url));
  });
  const headers: Array<[string, string]> = [['Range', 'npt=0.000-']];
  try {
    if (entries.length > 0) headers.push(['RTP-Info', formatRtpInfo(entries)]);
  } catch {
    // A SETUP URL RTP-Info cannot carry (a ',' or ';' in a query): players do without.
  }
  const r = s.play();
  if ('status' in r) return { status: 455, session: s };
  return { status: 200, session: s, headers, after: r.start ? () => s.startPlaying() : undefined };
}

export function pause(ctx: Ctx): Reply {
  const s = sessionIn(ctx, [SessionState.PrePlay, SessionState.Play, SessionState.PreRecord, SessionState.Record]);
  if (!(s instanceof RtspSession)) return s;
  if (s.pause()) return { status: 455, session: s };
  return { status: 200, session: s };
}
