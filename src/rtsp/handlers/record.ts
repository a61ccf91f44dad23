/** RECORD: the input starts sending (PreRecord → Record); its packets now fan out to the viewers. */
import type { Ctx, Reply } from '../defs.js';
import { RtspSession, SessionState } from '../session.js';
import { sessionIn } from './context.js';

export function record(ctx: Ctx): Reply {
  const s = sessionIn(ctx, [SessionState.PreRecord]);
  if (!(s instanceof RtspSession)) return s;
  if (s.record()) return { status: 455, session: s };
  return { status: 200, session: s, headers: [['Range', 'npt=0.000-']] };
}
