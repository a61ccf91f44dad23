/**
 * Session identity (SPEC §2, MistServer semantics): a session key is a hash of the fields the kind's mode
 * selects — stream 8, IP 4, token 2, protocol 1 — so that, by default, a viewer switching protocol stays one session.
 */
import { hash } from 'node:crypto';
import type { Config } from '../config/schema.js';
import type { Action, AdmissionRequest, Kind } from './types.js';

export const MODE_STREAM = 8;
export const MODE_IP = 4;
export const MODE_TOKEN = 2;
export const MODE_PROTOCOL = 1;

export function kindOf(req: Pick<AdmissionRequest, 'action' | 'kind'>): Kind {
  return req.kind ?? (req.action === 'publish' ? 'input' : 'viewer');
}

export function modeOf(kind: Kind, sessions: Config['sessions']): number {
  switch (kind) {
    case 'viewer': return sessions.viewerMode;
    case 'input': return sessions.inputMode;
    case 'output': return sessions.outputMode;
    case 'unspecified': return sessions.unspecifiedMode;
  }
}

/**
 * The key of a session; `undefined` when the mode is 0 (not tracked). Fields are joined with a separator that
 * cannot occur in them unescaped, and the kind is part of the key so a viewer and a publisher never merge.
 */
export function sessionKey(kind: Kind, mode: number, f: { stream: string; ip: string; token: string; protocol: string }): string | undefined {
  if (mode === 0) return undefined;
  // one string, hashed one-shot: no Hash object per admission (measured: ~1.0 µs against ~1.5 µs)
  const input = `${kind}\0${mode & MODE_STREAM ? f.stream : ''}\0${mode & MODE_IP ? f.ip : ''}\0${mode & MODE_TOKEN ? f.token : ''}\0${mode & MODE_PROTOCOL ? f.protocol : ''}`;
  return hash('sha256', input, 'base64url');
}

/** The token: explicit field, then the `tkn` (configurable) query parameter, then `token`, then the `tkn` cookie. */
export function extractToken(req: Pick<AdmissionRequest, 'token' | 'query' | 'cookie'>, param: string): string {
  if (req.token) return req.token;
  if (req.query) {
    const q = new URLSearchParams(req.query);
    const v = q.get(param) ?? (param !== 'token' ? q.get('token') : null);
    if (v) return v;
  }
  if (req.cookie) {
    const v = readCookie(req.cookie, param);
    if (v) return v;
  }
  return '';
}

export function readCookie(header: string, name: string): string | undefined {
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) {
      const raw = part.slice(eq + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        return raw;
      }
    }
  }
  return undefined;
}

/**
 * Stream names are the same on every server: the path without leading slashes and without the query
 * (`rtsp://host/live/demo?tkn=…` → `live/demo`). Trailing slashes are dropped too.
 */
export function normalizeStream(path: string): string {
  let s = path;
  const q = s.indexOf('?');
  if (q >= 0) s = s.slice(0, q);
  s = s.replace(/^\/+/, '').replace(/\/+$/, '');
  try {
    s = decodeURIComponent(s);
  } catch {
    /* keep as is */
  }
  return s;
}

export const STREAM_NAME_MAX = 512;

/** A stream name acceptable to Usher: non-empty, bounded, no control characters, no `..` segment. */
export function validStreamName(s: string): boolean {
  return s.length > 0 && s.length <= STREAM_NAME_MAX && !BAD_STREAM.test(s);
}

/** A control character, or a `..` path segment: one pass over the name, nothing allocated. */
const BAD_STREAM = /[\u0000-\u001f\u007f]|(?:^|\/)\.\.(?:\/|$)/;

/** `live/*` matches every stream under live/; otherwise an exact match. */
export function streamMatches(pattern: string, stream: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return stream.startsWith(pattern.slice(0, -1));
  return pattern === stream;
}

export function actionKind(action: Action): Kind {
  return action === 'publish' ? 'input' : 'viewer';
}
