/** GET_PARAMETER / SET_PARAMETER: keep-alives (no parameters are served or set). */
import type { Reply } from '../conn.js';
import { findSession, type Ctx } from './context.js';

export function parameter(ctx: Ctx): Reply {
  if (!ctx.req.headers.has('session')) return { status: 200 };
  const f = findSession(ctx);
  if ('reply' in f) return f.reply;
  return f.session ? { status: 200, session: f.session } : { status: 200 };
}
