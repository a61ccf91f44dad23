/**
 * One server of the HTTP framework bench (bench/http-frameworks.ts), as its own process so its CPU can be read
 * from /proc: `node http-fw-server.js MODE PORT`. Each serves POST /v1/admission with the admission body shape
 * and answers a small JSON object; nothing else happens, so the figures are the HTTP layer's cost alone.
 *  - bare:    node:http, JSON.parse only (the baseline)
 *  - fastify: fastify + TypeBox schema (ajv-compiled validation, fast-json-stringify answer)
 *  - zod:     node:http + zod 4 (`safeParse`), JSON.stringify answer
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import Fastify from 'fastify';
import { Type } from 'typebox';
import { z } from 'zod';

const [mode, portArg] = process.argv.slice(2);
const port = Number(portArg);
const ANSWER = { allow: true, sessionId: '0190d1e2-0000-7000-8000-000000000000', kind: 'viewer', expiresAt: null };

/** The admission body (the same bounds as src/http/routes/admission.ts). */
const str = (max: number) => Type.Optional(Type.String({ maxLength: max }));
const tbBody = Type.Object({
  server: str(64), protocol: str(32), action: Type.Enum(['publish', 'play']), stream: Type.String({ minLength: 1, maxLength: 1024 }),
  ip: str(64), token: str(4096), user: str(256), password: str(4096), query: str(8192), clientId: str(256),
  userAgent: str(1024), kind: Type.Optional(Type.Enum(['viewer', 'input', 'output', 'unspecified'])), cookie: str(8192),
}, { additionalProperties: false });
const tbAnswer = Type.Object({
  allow: Type.Boolean(), sessionId: Type.Unsafe<string | null>({ type: ['string', 'null'] }), kind: Type.String(),
  expiresAt: Type.Unsafe<string | null>({ type: ['string', 'null'] }),
});

const zs = (max: number) => z.string().max(max).optional();
const zBody = z.strictObject({
  server: zs(64), protocol: zs(32), action: z.enum(['publish', 'play']), stream: z.string().min(1).max(1024),
  ip: zs(64), token: zs(4096), user: zs(256), password: zs(4096), query: zs(8192), clientId: zs(256),
  userAgent: zs(1024), kind: z.enum(['viewer', 'input', 'output', 'unspecified']).optional(), cookie: zs(8192),
});

function readAll(req: IncomingMessage, done: (body: string) => void): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}

function send(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

if (mode === 'bare') {
  createServer((req, res) => readAll(req, (text) => {
    try {
      JSON.parse(text);
      send(res, 200, JSON.stringify(ANSWER));
    } catch {
      send(res, 400, '{"code":"E_BAD_JSON"}');
    }
  })).listen(port, '127.0.0.1');
} else if (mode === 'zod') {
  createServer((req, res) => readAll(req, (text) => {
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return send(res, 400, '{"code":"E_BAD_JSON"}');
    }
    const r = zBody.safeParse(v);
    if (!r.success) return send(res, 400, JSON.stringify({ code: 'E_VALIDATION', field: r.error.issues[0].path.join('.') }));
    send(res, 200, JSON.stringify(ANSWER));
  })).listen(port, '127.0.0.1');
} else if (mode === 'fastify') {
  const app = Fastify({ logger: false, ajv: { customOptions: { removeAdditional: false, coerceTypes: false } } });
  app.post('/v1/admission', { schema: { body: tbBody, response: { 200: tbAnswer } } }, async () => ANSWER);
  await app.listen({ port, host: '127.0.0.1' });
} else {
  throw new Error(`unknown mode ${mode}`);
}
