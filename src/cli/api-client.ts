/**
 * The CLI talks to the running server's admin API (one source of truth: the registry in that process).
 * Bounded: every request has a timeout.
 */
import type { Config } from '../config/schema.js';
import { parseHostPort } from '../config/schema.js';
import { CliError } from './output.js';

export class ApiClient {
  constructor(private readonly base: string, private readonly token: string, private readonly timeoutMs = 10_000) {}

  static fromConfig(c: Config, url?: string): ApiClient {
    let base = url;
    if (!base) {
      const { host, port } = parseHostPort(c.http.listen)!;
      const h = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
      base = `http://${h}:${port}`;
    }
    return new ApiClient(base.replace(/\/$/, ''), c.http.adminToken);
  }

  async call<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: {
          ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (e) {
      throw new CliError(`cannot reach Usher at ${this.base}: ${(e as Error).cause ? String((e as Error & { cause: Error }).cause.message) : (e as Error).message} (is \`usher serve\` running?)`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      /* not JSON */
    }
    if (res.status >= 400) {
      const p = parsed as { code?: string; message?: string };
      throw new CliError(`${res.status} ${p.code ?? ''} ${p.message ?? text}`.replace(/\s+/g, ' ').trim());
    }
    return { status: res.status, body: parsed as T };
  }
}
