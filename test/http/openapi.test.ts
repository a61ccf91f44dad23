import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_MODES } from '../../src/http/route.js';
import { ROUTES } from '../../src/http/routes/index.js';
import { call, startUsher, type TestUsher } from '../helpers/usher.js';

/** fastify path → OpenAPI path, as @fastify/swagger writes it (`:id` → `{id}`, `*` → `{*}`). */
const openApiPath = (url: string): string => url.replace(/:(\w+)/g, '{$1}').replace(/\*$/, '{*}');
/** A concrete path for a route (parameters filled in). */
const concrete = (url: string): string => url.replace(/:(\w+)/g, 'x').replace(/\*$/, 'x');

type Operation = {
  'x-usher-auth': string;
  security?: Array<Record<string, string[]>>;
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
};

describe('one declared route table, served as OpenAPI 3.1 at /openapi.json', () => {
  let u: TestUsher;
  let doc: { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, { type: string; scheme: string; bearerFormat?: string }> } };
  beforeAll(async () => {
    u = await startUsher();
    const r = await call(u.url, 'GET', '/openapi.json');
    if (r.status !== 200) throw new Error(`GET /openapi.json answered ${r.status}`);
    doc = r.body;
  });
  afterAll(async () => u.stop());

  it('is a valid OpenAPI 3.1 document', async () => {
    expect(doc.openapi).toBe('3.1.0');
    const result = await new Validator().validate(doc as never);
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('holds every route of the table with its auth mode and schemas, and nothing else', () => {
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(ROUTES.map((r) => `${r.method} ${openApiPath(r.url)}`).sort());
    for (const r of ROUTES) {
      const op = doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()];
      const where = `${r.method} ${r.url}`;
      expect(op, where).toBeDefined();
      expect(op['x-usher-auth'], where).toBe(r.auth);
      expect(op.security ?? [], where).toEqual(r.auth === 'admin' ? [{ adminToken: [] }] : r.auth === 'client-jwt' ? [{ clientJwt: [] }] : []);
      const params = (op.parameters ?? []).filter((p) => p.in === 'path').map((p) => p.name).sort();
      expect(params, where).toEqual([...r.url.matchAll(/:(\w+)|\*$/g)].map((m) => m[1] ?? '*').sort());
      const query = (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name).sort();
      const declaredQuery = r.schema.query ? Object.keys((r.schema.query as { properties: object }).properties).sort() : [];
      expect(query, where).toEqual(declaredQuery);
      if (r.schema.body) {
        expect(op.requestBody?.content['application/json'].schema, where).toMatchObject({ properties: JSON.parse(JSON.stringify((r.schema.body as { properties: object }).properties)) });
      } else {
        expect(op.requestBody, where).toBeUndefined();
      }
      for (const status of Object.keys(r.schema.response)) expect(op.responses[status], `${where} ${status}`).toBeDefined();
      // every route documents its errors
      expect(Object.keys(op.responses).some((s) => s.startsWith('4')), where).toBe(true);
    }
  });

  it('declares a security scheme for each auth mode that carries a credential', () => {
    expect(AUTH_MODES).toEqual(['public', 'hook', 'client-jwt', 'admin']);
    expect(doc.components.securitySchemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.components.securitySchemes.clientJwt).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
  });

  it('enforces what it declares: every admin route refuses a caller without the token before reading anything; no other route does', async () => {
    for (const r of ROUTES) {
      const res = await call(u.url, r.method, concrete(r.url));
      const where = `${r.method} ${r.url} → ${res.status} ${JSON.stringify(res.body)}`;
      if (r.auth === 'admin') {
        expect(res.status, where).toBe(401);
        expect(res.body.code, where).toBe('E_UNAUTHORIZED');
      } else {
        expect(res.status, where).not.toBe(401);
      }
    }
  });

  it('unknown paths are 404, known paths with another method 405 (with Allow), both as {code, message}', async () => {
    const nf = await fetch(`${u.url}/v2/nothing`);
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ code: 'E_NOT_FOUND', message: expect.any(String) });
    const na = await fetch(`${u.url}/v1/stats`, { method: 'PUT' });
    expect(na.status).toBe(405);
    expect(na.headers.get('allow')).toBe('GET');
    expect(await na.json()).toEqual({ code: 'E_METHOD_NOT_ALLOWED', message: expect.any(String) });
    // errors raised before a route is found have the same shape
    for (const path of ['/v1/sessions/%zz', `/v1/accounts/${'a'.repeat(1100)}`]) {
      const r = await call(u.url, 'GET', path);
      expect(r.status, path).toBe(400);
      expect(r.body, path).toEqual({ code: 'E_BAD_REQUEST', message: expect.any(String) });
    }
  });
});
