/**
 * A small router: exact paths in a map (the hot admission path costs one lookup), parameterised paths as
 * compiled patterns. Handlers get the request, the response and the path parameters.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type Params = Record<string, string>;
export type Handler = (req: IncomingMessage, res: ServerResponse, params: Params, url: ReqUrl) => Promise<void> | void;

/** Path and query of a request; the query is parsed only when a handler asks (the admission path never does). */
export class ReqUrl {
  private sp: URLSearchParams | undefined;
  readonly pathname: string;
  private readonly search: string;

  constructor(raw: string) {
    const q = raw.indexOf('?');
    this.pathname = q < 0 ? raw : raw.slice(0, q);
    this.search = q < 0 ? '' : raw.slice(q + 1);
  }

  get searchParams(): URLSearchParams {
    return (this.sp ??= new URLSearchParams(this.search));
  }
}

interface PatternRoute {
  method: string;
  re: RegExp;
  names: string[];
  handler: Handler;
}

export type Match = { handler: Handler; params: Params } | { methodNotAllowed: true } | undefined;

export class Router {
  private readonly exact = new Map<string, Map<string, Handler>>();
  private readonly patterns: PatternRoute[] = [];

  /** `path` may hold `:name` segments and a trailing `*rest` (matches the remainder, possibly empty). */
  on(method: string, path: string, handler: Handler): this {
    if (!path.includes(':') && !path.includes('*')) {
      let m = this.exact.get(path);
      if (!m) this.exact.set(path, (m = new Map()));
      m.set(method, handler);
      return this;
    }
    const names: string[] = [];
    const src = path
      .split('/')
      .map((seg) => {
        if (seg.startsWith(':')) {
          names.push(seg.slice(1));
          return '([^/]+)';
        }
        if (seg.startsWith('*')) {
          names.push(seg.slice(1));
          return '?(.*)';
        }
        return seg.replace(/[.+?^${}()|[\]\\]/g, '\\$&');
      })
      .join('/');
    this.patterns.push({ method, re: new RegExp(`^${src}$`), names, handler });
    return this;
  }

  match(method: string, path: string): Match {
    const m = this.exact.get(path);
    if (m) {
      const h = m.get(method) ?? (method === 'HEAD' ? m.get('GET') : undefined);
      return h ? { handler: h, params: {} } : { methodNotAllowed: true };
    }
    let pathMatched = false;
    for (const r of this.patterns) {
      const found = r.re.exec(path);
      if (!found) continue;
      pathMatched = true;
      if (r.method !== method && !(method === 'HEAD' && r.method === 'GET')) continue;
      const params: Params = {};
      r.names.forEach((n, i) => {
        try {
          params[n] = decodeURIComponent(found[i + 1] ?? '');
        } catch {
          params[n] = found[i + 1] ?? '';
        }
      });
      return { handler: r.handler, params };
    }
    return pathMatched ? { methodNotAllowed: true } : undefined;
  }
}
