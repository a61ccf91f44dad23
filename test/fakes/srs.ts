/** Fake SRS HTTP API: `GET /api/v1/clients/?start=&count=` (count clamped to >= 10) and `DELETE /api/v1/clients/{id}`. */
import { FakeHttp } from './fake-http.js';

export interface SrsClient {
  id: string;
  vhost?: string;
  url: string;
  name: string;
  ip: string;
  type: string;
  publish: boolean;
}

export class FakeSrs extends FakeHttp {
  clients: SrsClient[] = [];

  constructor() {
    super((r) => {
      const base = { code: 0, server: 'vid-0xk989d', service: 'fxh3k4sy', pid: '4711' };
      if (r.path === '/api/v1/clients/' && r.method === 'GET') {
        const start = Math.max(0, Number(r.query.get('start') ?? 0) || 0);
        const count = Math.max(10, Number(r.query.get('count') ?? 0) || 0);
        const clients = this.clients.slice(start, start + count).map((c) => ({
          vhost: '__defaultVhost__', stream: 'vid-stream1', pageUrl: '', swfUrl: '', tcUrl: 'rtmp://127.0.0.1/live',
          alive: 3.2, send_bytes: 100, recv_bytes: 200, kbps: { recv_30s: 0, send_30s: 0 }, ...c,
        }));
        return { body: { ...base, clients } };
      }
      const m = /^\/api\/v1\/clients\/(.+)$/.exec(r.path);
      if (m && r.method === 'DELETE') {
        const i = this.clients.findIndex((c) => c.id === m[1]);
        if (i < 0) return { body: { code: 2049 } };
        this.clients.splice(i, 1);
        return { body: base };
      }
      return { status: 404, body: { code: 1000 } };
    });
  }
}
