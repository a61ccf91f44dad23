/**
 * Reading bodies (bounded) and writing answers. Every error leaves as JSON `{code, message, field?}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { UsherError } from '../errors.js';

/** Read the whole body, refusing more than `max` bytes (413) without buffering the excess. */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > max) return Promise.reject(new UsherError('E_PAYLOAD_TOO_LARGE', `request body over ${max} bytes`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) {
        reject(new UsherError('E_PAYLOAD_TOO_LARGE', `request body over ${max} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/** Parse a JSON object body. Empty body = `{}` when `allowEmpty`. */
export async function readJson(req: IncomingMessage, max: number, allowEmpty = false): Promise<Record<string, unknown>> {
  const ct = req.headers['content-type'];
  const body = await readBody(req, max);
  if (body.length === 0) {
    if (allowEmpty) return {};
    throw new UsherError('E_BAD_JSON', 'request body is empty; expected a JSON object');
  }
  const text = body.toString('utf8');
  if (ct && /^application\/x-www-form-urlencoded\b/i.test(ct) && !text.trimStart().startsWith('{')) {
    // form fields are accepted too (curl -d a=b&c=d); a JSON body sent with curl's default type is JSON
    return Object.fromEntries(new URLSearchParams(text));
  }
  if (ct && !/^application\/(.+\+)?json\b/i.test(ct) && !/^text\/plain\b/i.test(ct) && !/^application\/x-www-form-urlencoded\b/i.test(ct)) {
    throw new UsherError('E_UNSUPPORTED_MEDIA_TYPE', `expected application/json, got ${ct}`);
  }
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new UsherError('E_BAD_JSON');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new UsherError('E_BAD_JSON', 'expected a JSON object');
  return v as Record<string, unknown>;
}

export function send(res: ServerResponse, status: number, body: string, type: string, extra?: Record<string, string>): void {
  if (res.headersSent) return;
  const headers: Record<string, string | number> = { 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra };
  res.writeHead(status, headers);
  res.end(body);
}

export function json(res: ServerResponse, status: number, v: unknown): void {
  send(res, status, JSON.stringify(v), 'application/json; charset=utf-8');
}

export function sendError(res: ServerResponse, e: UsherError): void {
  json(res, e.status, e.toJSON());
}

// ── field readers: each names the field at fault ────────────────────────────────────────

export function str(o: Record<string, unknown>, field: string, opts: { required?: boolean; max?: number } = {}): string | undefined {
  const v = o[field];
  if (v === undefined || v === null || v === '') {
    if (opts.required) throw new UsherError('E_VALIDATION', `${field} is required`, field);
    return undefined;
  }
  if (typeof v !== 'string') throw new UsherError('E_VALIDATION', `${field} must be a string`, field);
  if (v.length > (opts.max ?? 4096)) throw new UsherError('E_VALIDATION', `${field} is too long`, field);
  return v;
}

export function oneOf<T extends string>(o: Record<string, unknown>, field: string, values: readonly T[], required = false): T | undefined {
  const v = str(o, field, { required });
  if (v === undefined) return undefined;
  if (!values.includes(v as T)) throw new UsherError('E_VALIDATION', `${field} must be one of ${values.join(', ')}`, field);
  return v as T;
}

export function int(o: Record<string, unknown>, field: string, opts: { min?: number; max?: number; nullable?: boolean } = {}): number | null | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (v === null && opts.nullable) return null;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new UsherError('E_VALIDATION', `${field} must be an integer`, field);
  if (opts.min !== undefined && v < opts.min) throw new UsherError('E_VALIDATION', `${field} must be >= ${opts.min}`, field);
  if (opts.max !== undefined && v > opts.max) throw new UsherError('E_VALIDATION', `${field} must be <= ${opts.max}`, field);
  return v;
}

export function bool(o: Record<string, unknown>, field: string): boolean | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (typeof v !== 'boolean') throw new UsherError('E_VALIDATION', `${field} must be true or false`, field);
  return v;
}

export function strList(o: Record<string, unknown>, field: string): string[] | undefined {
  const v = o[field];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === '' || x.length > 512)) {
    throw new UsherError('E_VALIDATION', `${field} must be a list of non-empty strings`, field);
  }
  return v as string[];
}

export function only(o: Record<string, unknown>, allowed: readonly string[]): void {
  for (const k of Object.keys(o)) {
    if (!allowed.includes(k)) throw new UsherError('E_VALIDATION', `unknown field ${k}`, k);
  }
}
