/**
 * One declared route table (SPEC §8): each route names its method, path, auth mode and the schemas of its
 * params, query, body and answers. src/http/server.ts registers exactly these with fastify — the schemas
 * validate the requests and serialize the answers — and @fastify/swagger builds /openapi.json from the same.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Static, TSchema } from 'typebox';
import type { RouteContext } from './context.js';

/**
 * Who may call a route:
 * - `public`: anyone (admission and heartbeats are authorised by the credential or session id they carry);
 * - `hook`: a media server's hook (raw body of any content type; expose these to media servers only);
 * - `client-jwt`: a player app, `Authorization: Bearer <JWT>` of the account it acts for (SPEC §6);
 * - `admin`: `Authorization: Bearer <http.adminToken>` (src/http/admin-auth.ts).
 */
export const AUTH_MODES = ['public', 'hook', 'client-jwt', 'admin'] as const;
export type AuthMode = (typeof AUTH_MODES)[number];
export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

type S<T> = T extends TSchema ? Static<T> : undefined;

/** A raw (non-JSON) answer: documented by content type, sent as it is. */
export interface RawAnswer {
  description: string;
  content: Record<string, { schema: TSchema }>;
}

export interface RouteSchemas {
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** Answers by status. The error shape (`{code, message, field?}`) is added to every route for 4xx/5xx. */
  response: Record<number, TSchema | RawAnswer>;
}

type AnswerOf<R> = R extends TSchema ? Static<R> : string | Buffer;

export type RouteRequest<Sc extends RouteSchemas> = FastifyRequest<{
  Params: S<Sc['params']>;
  Querystring: S<Sc['query']>;
  Body: S<Sc['body']>;
}>;

export interface Route<Sc extends RouteSchemas = RouteSchemas> {
  method: Method;
  /** fastify path syntax: `:name` parameters, a trailing `*` for the rest of the path. */
  url: string;
  auth: AuthMode;
  summary: string;
  description?: string;
  tag: string;
  schema: Sc;
  /**
   * How the body is read: `json` (JSON, or form fields; the default when there is a body schema), `json-optional`
   * (an empty body reads as `{}`), `raw` (the bytes as sent, whatever the content type: hooks).
   */
  body?: 'json' | 'json-optional' | 'raw';
  /** Request content types to document (default `application/json`). */
  consumes?: string[];
  /**
   * The answer; its status is set with `reply.code()` (200 otherwise). Errors are thrown as UsherError.
   * `ctx` is what the route may use (src/http/context.ts).
   */
  handler(req: RouteRequest<Sc>, reply: FastifyReply, ctx: RouteContext): Promise<AnswerOf<Sc['response'][keyof Sc['response']]>> | AnswerOf<Sc['response'][keyof Sc['response']]>;
}

/** Declare a route; the handler's request and answer are typed from its schemas. */
export function route<Sc extends RouteSchemas>(r: Route<Sc>): Route {
  return r as unknown as Route;
}
