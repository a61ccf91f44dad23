/**
 * Small shared pieces for reading hook calls and writing answers. Media servers send loosely typed payloads
 * (numbers as strings, missing fields, nulls), so every reader here coerces instead of trusting.
 */
import { UsherError } from '../errors.js';
import type { Decision } from '../core/types.js';
import type { HookRequest, HookResponse } from './types.js';

/** The body as a JSON value; a body that is not JSON is refused (400, which every server reads as a refusal). */
export function jsonBody(req: HookRequest): unknown {
  const text = req.body.toString('utf8').trim();
  if (text === '') throw new UsherError('E_BAD_JSON', 'hook body is empty; expected JSON');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsherError('E_BAD_JSON', 'hook body is not valid JSON');
  }
}

export function jsonObject(req: HookRequest): Record<string, unknown> {
  const v = jsonBody(req);
  if (!isObject(v)) throw new UsherError('E_BAD_JSON', 'hook body must be a JSON object');
  return v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A string field: strings as they are, numbers as decimal text, anything else empty. */
export function str(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return '';
}

/** A non-negative byte count, or undefined. */
export function count(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function header(req: HookRequest, name: string): string {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? (v[0] ?? '') : (v ?? '');
}

/** `::ffff:1.2.3.4` → `1.2.3.4`, so one viewer has one IP whichever socket family the server used. */
export function plainIp(ip: string): string {
  return ip.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/** Go-style `host:port` / `[v6]:port` → host. A bare IPv6 address (several colons, no brackets) is returned whole. */
export function hostOf(addr: string): string {
  const a = addr.trim();
  const m = /^\[([^\]]*)\](?::\d+)?$/.exec(a);
  if (m) return plainIp(m[1]);
  const first = a.indexOf(':');
  if (first >= 0 && first === a.lastIndexOf(':')) return a.slice(0, first);
  return plainIp(a);
}

/** `address:port` where a port is always appended, even to an unbracketed IPv6 address (Node-Media-Server). */
export function dropPort(addr: string): string {
  const i = addr.lastIndexOf(':');
  if (i <= 0 || !/^\d+$/.test(addr.slice(i + 1))) return plainIp(addr);
  return plainIp(addr.slice(0, i).replace(/^\[|\]$/g, ''));
}

/** A client's query, given as a raw string (with or without `?`) or as a parsed object, back to a raw query string. */
export function rawQuery(v: unknown): string {
  if (typeof v === 'string') return v.replace(/^\?/, '');
  if (!isObject(v)) return '';
  const q = new URLSearchParams();
  for (const [k, val] of Object.entries(v)) {
    for (const one of Array.isArray(val) ? val : [val]) {
      const s = str(one);
      if (s !== '' || one === '') q.append(k, s);
    }
  }
  return q.toString();
}

export function text(status: number, body = '', headers: Record<string, string> = {}): HookResponse {
  return { status, body, headers: { 'content-type': 'text/plain; charset=utf-8', ...headers } };
}

export function json(status: number, v: unknown): HookResponse {
  return { status, body: JSON.stringify(v), headers: { 'content-type': 'application/json' } };
}

/** `E_LIMIT_REACHED: limit reached: …` — the code first, so server logs can be grepped for it. */
export function denial(d: Pick<Decision, 'code' | 'reason'>): string {
  return `${d.code ?? 'E_DENIED'}: ${d.reason ?? 'denied'}`;
}

/** Seconds from `now` (epoch ms) until `expiresAt` (epoch ms), at least 1; undefined when there is no expiry. */
export function secondsLeft(expiresAt: number | null | undefined, now: number): number | undefined {
  if (expiresAt === null || expiresAt === undefined) return undefined;
  return Math.max(1, Math.ceil((expiresAt - now) / 1000));
}
