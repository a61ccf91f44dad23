/** The route table: every route Usher serves over HTTP, in one list (src/http/route.ts says what a route declares). */
import type { Route } from '../route.js';
import { accountRoutes } from './accounts.js';
import { admissionRoutes } from './admission.js';
import { opsRoutes } from './ops.js';
import { sessionRoutes } from './sessions.js';

export const ROUTES: readonly Route[] = [...admissionRoutes, ...sessionRoutes, ...accountRoutes, ...opsRoutes];
