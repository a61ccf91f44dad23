/** TEARDOWN: ends the session (the connection stays open for the client to close or reuse). */
import type { Ctx, Reply } from '../defs.js';

export function teardown(ctx: Ctx): Reply {
  const s = ctx.session ?? ctx.conn.pending;
  s?.close('teardown', 'keep');
  return { status: 200 };
}
