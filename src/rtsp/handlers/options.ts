/** OPTIONS: the methods Usher serves; also a keep-alive for the session it names. */
import type { Reply } from '../conn.js';
import { findSession, PUBLIC_METHODS, type Ctx } from './context.js';

export function options(ctx: Ctx): Reply {
  const f = ctx.req.headers.has('session') ? findSession(ctx) : undefined;
  const reply: Reply = { status: 200, headers: [['Public', PUBLIC_METHODS]] };
  if (f && 'session' in f && f.session) reply.session = f.session;
  return reply;
}
