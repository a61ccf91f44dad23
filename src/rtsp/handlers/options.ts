/** OPTIONS: the methods Usher serves; also a keep-alive for the session it names. */
import type { Ctx, Reply } from '../defs.js';
import { PUBLIC_METHODS } from './context.js';

export function options(ctx: Ctx): Reply {
  const reply: Reply = { status: 200, headers: [['Public', PUBLIC_METHODS]] };
  if (ctx.named && ctx.session) reply.session = ctx.session;
  return reply;
}
