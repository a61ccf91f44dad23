/**
 * Outbound HTTP to a media server's API (kick, list). Every call is bounded twice: in time (the server's
 * `timeoutMs`, covering connect, headers and body) and in size (the body is read up to a limit and the rest is
 * refused), so a slow or hostile server can neither hang a kick nor fill Usher's memory.
 */
import type { ServerConfig } from '../config/schema.js';
import { UsherError } from '../errors.js';

/** Default cap on a response body; lists of many thousands of clients stay far below it. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

export interface OutboundRequest {
  method?: string;
  /** Path (with query) appended to `server.api`. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  maxBytes?: number;
}

export interface OutboundResponse {
  status: number;
  text: string;
}

/**
 * The server could not be asked, or answered something unusable (network error, timeout, oversized or unexpected
 * answer): code `E_SERVER_UNREACHABLE`; the caller should retry later.
 */
export class ServerUnreachable extends UsherError {
  constructor(server: string, detail: string) {
    super('E_SERVER_UNREACHABLE', `${server}: ${detail}`);
    this.name = 'ServerUnreachable';
  }
}

export function apiUrl(server: ServerConfig, path: string): string {
  if (!server.api) throw new ServerUnreachable(server.name, 'no api address configured in servers:');
  return server.api.replace(/\/+$/, '') + path;
}

/** `Authorization: Basic …` from the server's user/password, when a user is configured. */
export function basicAuth(server: ServerConfig): Record<string, string> {
  if (!server.user) return {};
  return { authorization: `Basic ${Buffer.from(`${server.user}:${server.password}`).toString('base64')}` };
}

export async function callServer(server: ServerConfig, req: OutboundRequest): Promise<OutboundResponse> {
  const url = apiUrl(server, req.path);
  const max = req.maxBytes ?? MAX_RESPONSE_BYTES;
  const signal = AbortSignal.timeout(server.timeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      method: req.method ?? 'GET',
      headers: req.headers,
      body: req.body,
      signal,
      // a redirect from a control API is a misconfiguration, not something to follow blindly
      redirect: 'manual',
    });
  } catch (e) {
    throw new ServerUnreachable(server.name, describe(e));
  }
  try {
    return { status: res.status, text: await readBounded(res, max) };
  } catch (e) {
    throw new ServerUnreachable(server.name, describe(e));
  }
}

async function readBounded(res: Response, max: number): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > max) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`response body over ${max} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`response body over ${max} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

function describe(e: unknown): string {
  if (e instanceof Error) {
    if (e.name === 'TimeoutError' || e.name === 'AbortError') return 'timed out';
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return cause?.code ?? cause?.message ?? e.message;
  }
  return String(e);
}

/** A JSON answer as an object; anything else is an error the caller reports. */
export function parseJsonAnswer(server: ServerConfig, text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ServerUnreachable(server.name, `answer is not JSON: ${text.slice(0, 200)}`);
  }
}
