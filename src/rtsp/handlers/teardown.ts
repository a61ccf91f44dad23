/** TEARDOWN: ends the session (the connection stays open for the client to close or reuse). */
import type { Reply } from '../conn.js';
import { findSession, type Ctx } from './context.js';

export function teardown(ctx: Ctx): Reply {
  const f = findSession(ctx);
  if ('reply' in f) return f.reply;
  if (f.session) f.session.close('teardown', { keepConnection: true });
  else if (ctx.conn.pending) {
    const p = ctx.conn.pending;
    ctx.conn.pending = undefined;
    ctx.server.release(p.ticket, 'teardown');
  }
  return { status: 200 };
}
