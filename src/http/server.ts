/**
 * The HTTP server: hooks, admission, admin API, metrics, health, /openapi.json — fastify, serving the declared
 * route table (src/http/routes/index.ts). Chosen by measurement (bench/http-frameworks.ts, README "HTTP API").
 * Bounded everywhere: header size (16 KiB) and time, request time, body size (`http.maxBodyBytes`, refused past it
 * without buffering), keep-alive time. Auth per route: `admin` routes check the bearer token before the body is
 * read; `client-jwt` routes verify the account's JWT.
 */
import { createServer, type Server } from 'node:http';
import fastifySwagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest, type onRequestHookHandler } from 'fastify';
import type { JWTPayload } from 'jose';
import { createJwtVerifier } from '../auth/jwt.js';
import { UsherError } from '../errors.js';
import { RateLimitedLog } from '../log.js';
import { isAdmin } from './admin-auth.js';
import { jsonBodies, rawBodies } from './body.js';
import type { HttpContext, RouteContext } from './context.js';
import { onClientError, toUsherError } from './faults.js';
import type { AuthMode, Route } from './route.js';
import { ROUTES } from './routes/index.js';
import { ErrorBody } from './schemas.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified JWT of a `client-jwt` route's caller. */
    jwtClaims: JWTPayload | null;
  }
}

/** OpenAPI security per auth mode (`hook` and `public` carry no credential of their own). */
const SECURITY: Record<AuthMode, Array<Record<string, string[]>>> = {
  public: [],
  hook: [],
  'client-jwt': [{ clientJwt: [] }],
  admin: [{ adminToken: [] }],
};

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const;

/** Request failures logged in full at most this often (the rest are counted in one summary line). */
const FAILURE_LOG = { max: 10, intervalMs: 10_000 };

/** Build the server and its routes; the caller listens (`server.listen`). */
export async function createHttpServer(ctx: HttpContext, routes: readonly Route[] = ROUTES): Promise<Server> {
  const { http } = ctx.config;
  const failures = new RateLimitedLog(ctx.log, { ...FAILURE_LOG, now: () => ctx.registry.now() });
  const rctx: RouteContext = { ...ctx, failures };
  let server: Server | undefined;
  const app = Fastify({
    serverFactory(handler) {
      server = createServer(
        {
          requestTimeout: http.requestTimeoutMs,
          headersTimeout: Math.min(http.headersTimeoutMs, http.requestTimeoutMs),
          keepAliveTimeout: http.keepAliveTimeoutMs,
          maxHeaderSize: 16 * 1024,
          // how often node looks for requests past their timeouts (its default, 30 s, would stretch them)
          connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(Math.min(http.headersTimeoutMs, http.requestTimeoutMs) / 4))),
        },
        (req, res) => {
          ctx.metrics.httpRequests++;
          handler(req, res);
        },
      );
      return server;
    },
    bodyLimit: http.maxBodyBytes,
    clientErrorHandler: onClientError,
    // errors raised before a route is found (a malformed %-escape, a path parameter over maxParamLength)
    frameworkErrors(err, _req, reply: FastifyReply) {
      const e = toUsherError(err, http.maxBodyBytes) ?? new UsherError('E_BAD_REQUEST');
      reply.code(e.status).send(e.toJSON());
    },
    routerOptions: { maxParamLength: 1024 },
    logger: false,
  });

  // Bodies are validated strictly (no type coercion, unknown fields refused with their name); query strings and
  // path parameters are text, so numbers in them are coerced.
  const ajvOptions = { allErrors: false, removeAdditional: false, useDefaults: true, allowUnionTypes: true, strict: false } as const;
  const bodyAjv = new Ajv({ ...ajvOptions, coerceTypes: false });
  const textAjv = new Ajv({ ...ajvOptions, coerceTypes: true });
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema));

  app.decorateRequest('jwtClaims', null);
  app.setErrorHandler((err, req, reply) => {
    let e = toUsherError(err, http.maxBodyBytes, req.body);
    if (!e) {
      // a failure while the store cannot write is unavailability (503, readiness fails), not a bug
      const h = ctx.store.health();
      e = h.writable ? new UsherError('E_INTERNAL') : new UsherError('E_UNAVAILABLE', 'the store cannot write');
      failures.error({ err, method: req.method, path: req.url.split('?')[0], store: h.error ?? undefined }, 'request failed');
    }
    reply.code(e.status).send(e.toJSON());
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0];
    const allowed = METHODS.filter((m) => app.findRoute({ method: m, url: path }) !== null);
    const e = allowed.length > 0
      ? new UsherError('E_METHOD_NOT_ALLOWED', `${req.method} is not allowed on ${path}`)
      : new UsherError('E_NOT_FOUND', `no route for ${path}`);
    if (allowed.length > 0) reply.header('allow', allowed.join(', '));
    reply.code(e.status).send(e.toJSON());
  });

  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Usher', version: 'v1', description: 'Session control for live streaming (SPEC §8, §11).' },
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: '`http.adminToken`' },
          clientJwt: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'the JWT of the account a client acts for (SPEC §6)' },
        },
      },
    },
  });

  const hooks = authHooks(ctx);
  const register = (scope: FastifyInstance, r: Route): void => {
    const own = Object.keys(r.schema.response).map(Number);
    scope.route({
      method: r.method,
      url: r.url,
      schema: {
        summary: r.summary,
        ...(r.description && { description: r.description }),
        tags: [r.tag],
        ...(r.consumes && { consumes: r.consumes }),
        ...(r.schema.params && { params: r.schema.params }),
        ...(r.schema.query && { querystring: r.schema.query }),
        ...(r.schema.body && { body: r.schema.body }),
        response: {
          ...r.schema.response,
          ...(own.some((s) => s >= 400 && s < 500) ? {} : { '4xx': ErrorBody }),
          ...(own.some((s) => s >= 500) ? {} : { '5xx': ErrorBody }),
        },
        security: SECURITY[r.auth],
        'x-usher-auth': r.auth,
      },
      onRequest: hooks[r.auth],
      preValidation: r.body === 'json-optional' ? emptyIsObject : undefined,
      handler: (req: FastifyRequest, reply: FastifyReply) => r.handler(req as never, reply, rctx),
    });
  };
  await app.register(async (scope) => {
    jsonBodies(scope);
    for (const r of routes) if (r.body !== 'raw') register(scope, r);
  });
  await app.register(async (scope) => {
    rawBodies(scope);
    for (const r of routes) if (r.body === 'raw') register(scope, r);
  });
  await app.ready();
  if (!server) throw new Error('fastify did not build the HTTP server');
  server.maxRequestsPerSocket = 0;
  return server;
}

function emptyIsObject(req: FastifyRequest, _reply: FastifyReply, done: () => void): void {
  if (req.body === undefined || req.body === null) req.body = {};
  done();
}

/** The check each auth mode runs before the body is read; none for `public` and `hook` (the hot path has no hook). */
function authHooks(ctx: HttpContext): Record<AuthMode, onRequestHookHandler | undefined> {
  const jwt = createJwtVerifier(ctx.config.auth.jwt);
  return {
    public: undefined,
    hook: undefined,
    admin(req, _reply, done) {
      done(isAdmin(req, ctx) ? undefined : new UsherError('E_UNAUTHORIZED'));
    },
    async 'client-jwt'(req) {
      const m = /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '');
      if (!m) throw new UsherError('E_UNAUTHORIZED', 'a client session needs Authorization: Bearer <JWT>');
      if (!jwt) throw new UsherError('E_UNAUTHORIZED', 'JWTs are not enabled (auth.jwt)');
      try {
        req.jwtClaims = await jwt.verify(m[1], ctx.registry.now());
      } catch (e) {
        throw new UsherError('E_UNAUTHORIZED', e instanceof UsherError ? e.message : 'the JWT is not valid');
      }
    },
  };
}
