/**
 * Request bodies, read by fastify within `http.maxBodyBytes` (413 past it, without buffering the excess).
 * JSON routes take `application/json` (and `+json`, `text/plain`: curl and fetch defaults), form fields
 * (`curl -d a=b`; a JSON text sent with curl's default form type is read as JSON) and a body with no content type
 * as JSON; anything else is 415. Hook routes take the bytes as sent, whatever the type.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UsherError } from '../errors.js';

/** A JSON object; an empty body is `undefined` (the route then reads it as `{}` or refuses it). */
export function parseJsonObject(text: string): Record<string, unknown> | undefined {
  if (text.length === 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsherError('E_BAD_JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsherError('E_BAD_JSON', 'expected a JSON object');
  return v as Record<string, unknown>;
}

type Done = (err: Error | null, body?: unknown) => void;

function json(_req: FastifyRequest, text: string, done: Done): void {
  try {
    done(null, parseJsonObject(text));
  } catch (e) {
    done(e as Error);
  }
}

function form(_req: FastifyRequest, text: string, done: Done): void {
  if (text.trimStart().startsWith('{')) return json(_req, text, done);
  done(null, text.length === 0 ? undefined : Object.fromEntries(new URLSearchParams(text)));
}

/** JSON (and form) parsers for the routes of this fastify context. */
export function jsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(['application/json', 'text/plain'], { parseAs: 'string' }, json);
  app.addContentTypeParser(/^application\/[^;]+\+json(;|$)/i, { parseAs: 'string' }, json);
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, form);
  // '*' also receives bodies without a content type
  app.addContentTypeParser('*', { parseAs: 'string' }, (req, text, done) => {
    const ct = req.headers['content-type'];
    if (ct === undefined || ct === '') return json(req, text as string, done);
    done(new UsherError('E_UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${ct}`));
  });
}

/** Raw bodies (Buffer) whatever the content type, for hooks. */
export function rawBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
}
