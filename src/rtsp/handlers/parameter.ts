/** GET_PARAMETER / SET_PARAMETER: keep-alives (no parameters are served or set). */
import type { Ctx, Reply } from '../defs.js';

export function parameter(ctx: Ctx): Reply {
  return ctx.named && ctx.session ? { status: 200, session: ctx.session } : { status: 200 };
}
