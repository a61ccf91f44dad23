/**
 * A real HTTP server standing in for a media server's control API in tests. It records every request (method,
 * path with query, headers, body) and answers through a handler the fake defines. It can be stopped and started
 * again on the same port, to play a server that is down for a while.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  /** Path with query, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface Answer {
  status?: number;
  body?: string | object;
  headers?: Record<string, string>;
}

export type FakeHandler = (req: Recorded) => Answer | Promise<Answer>;

export class FakeHttp {
  readonly requests: Recorded[] = [];
  private server: Server | undefined;
  port = 0;

  constructor(private readonly handler: FakeHandler) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => void this.serve(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  /** Requests whose path (without query) is `path`, optionally with a method. */
  calls(path: string | RegExp, method?: string): Recorded[] {
    return this.requests.filter((r) => (typeof path === 'string' ? r.path === path : path.test(r.path)) && (!method || r.method === method));
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const u = new URL(req.url ?? '/', 'http://fake');
    const rec: Recorded = {
      method: req.method ?? 'GET', url: req.url ?? '/', path: u.pathname, query: u.searchParams,
      headers: req.headers, body: Buffer.concat(chunks).toString('utf8'),
    };
    this.requests.push(rec);
    let a: Answer;
    try {
      a = await this.handler(rec);
    } catch (e) {
      a = { status: 500, body: String(e) };
    }
    const body = typeof a.body === 'string' ? a.body : a.body === undefined ? '' : JSON.stringify(a.body);
    const type = typeof a.body === 'object' ? 'application/json' : 'text/plain';
    res.writeHead(a.status ?? 200, { 'content-type': type, ...a.headers });
    res.end(body);
  }
}

export async function startFake(handler: FakeHandler): Promise<FakeHttp> {
  return new FakeHttp(handler).start();
}
