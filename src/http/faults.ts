/**
 * Every failure leaves as JSON `{code, message, field?}` with the status of its code (src/errors.ts): fastify's
 * own errors (body too large, bad content type, schema validation) are translated here, with the field at fault.
 * Malformed requests that never reach a route (headers too large or too slow) get 431/408/400 and their socket
 * is closed for good (`clientError`), so a client that never reads cannot hold it open.
 */
import type { Duplex } from 'node:stream';
import type { ErrorObject } from 'ajv';
import { UsherError } from '../errors.js';

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: ErrorObject[];
  validationContext?: string;
}

/** The UsherError a request failure stands for; `undefined` when it is not the client's fault (an internal error). */
export function toUsherError(e: unknown, maxBodyBytes: number, body?: unknown): UsherError | undefined {
  if (e instanceof UsherError) return e;
  const f = e as FastifyLikeError;
  if (f.validation && f.validation.length > 0) return fromValidation(f.validation[0], f.validationContext ?? 'body', body);
  switch (f.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new UsherError('E_PAYLOAD_TOO_LARGE', `request body over ${maxBodyBytes} bytes`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new UsherError('E_UNSUPPORTED_MEDIA_TYPE');
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new UsherError('E_BAD_JSON');
  }
  if (typeof f.statusCode === 'number' && f.statusCode >= 400 && f.statusCode < 500) return new UsherError('E_BAD_REQUEST', f.message);
  return undefined;
}

/** ajv's first error → `E_VALIDATION` naming the field (`stream`, `maxSessions`, `limit`, …). */
function fromValidation(err: ErrorObject, part: string, body: unknown): UsherError {
  const path = err.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const p = err.params as Record<string, unknown>;
  if (err.keyword === 'additionalProperties') {
    const field = [...path, String(p.additionalProperty)].join('.');
    return new UsherError('E_VALIDATION', `unknown field ${field}`, field);
  }
  if (err.keyword === 'required') path.push(String(p.missingProperty));
  const field = path.join('.');
  if (field === '') {
    if (part === 'body' && (body === undefined || body === null)) return new UsherError('E_BAD_JSON', 'request body is empty; expected a JSON object');
    return new UsherError('E_VALIDATION', `${part} ${err.message ?? 'is invalid'}`);
  }
  let what = err.message ?? 'is invalid';
  if (err.keyword === 'required') what = 'is required';
  else if (err.keyword === 'enum') what = `must be one of ${(p.allowedValues as unknown[]).join(', ')}`;
  return new UsherError('E_VALIDATION', `${field} ${what}`, field);
}

/** How long a refused connection may still drain what the client sends before it is destroyed (lingering close). */
const LINGER_MS = 1000;

/**
 * node's `clientError`: the request could not be read (headers over 16 KiB → 431, headers or request too slow →
 * 408, not HTTP → 400). Answer when nothing was sent on the socket yet, half-close, discard what still arrives
 * (closing with unread data would reset the connection and lose the answer), and destroy the socket at the latest
 * LINGER_MS later — never leave it to the client to close.
 */
export function onClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const e = err.code === 'HPE_HEADER_OVERFLOW'
    ? new UsherError('E_HEADERS_TOO_LARGE', 'request headers over 16 KiB')
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new UsherError('E_TIMEOUT')
      : new UsherError('E_BAD_REQUEST');
  const responding = (socket as { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
  socket.resume();
  if (!socket.writable || responding) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify(e.toJSON());
  socket.end(
    `HTTP/1.1 ${e.status} ${STATUS_TEXT[e.status] ?? 'Bad Request'}\r\nconnection: close\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

const STATUS_TEXT: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };
