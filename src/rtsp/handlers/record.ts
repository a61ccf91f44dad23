/** RECORD: the publisher starts sending (PreRecord → Record); its packets now fan out to the readers. */
import type { Reply } from '../conn.js';
import { RtspSession, SessionState } from '../session.js';
import { sessionIn, type Ctx } from './context.js';

export function record(ctx: Ctx): Reply {
  const s = sessionIn(ctx, [SessionState.PreRecord]);
  if (!(s instanceof RtspSession)) return s;
  if (s.role !== 'publisher' || s.transport === undefined) return { status: 455, session: s };
  s.state = SessionState.Record;
  if (s.transport === 'TCP' && s.conn) s.conn.recording = s;
  return { status: 200, session: s, headers: [['Range', 'npt=0.000-']] };
}
