/** Fake MediaMTX Control API v3: `/v3/<kind>/list` (paginated) and `POST /v3/<kind>/kick/{id}`. */
import { FakeHttp } from './fake-http.js';

export interface MtxItem {
  id: string;
  path: string;
  query?: string;
  remoteAddr: string;
  state?: 'idle' | 'read' | 'publish';
  user?: string;
}

export class FakeMediamtx extends FakeHttp {
  /** Items per kind (rtspsessions, rtmpconns, …). Kinds not present answer 404 like a disabled server. */
  kinds: Record<string, MtxItem[]> = { rtspsessions: [], rtspssessions: [], rtmpconns: [], srtconns: [], webrtcsessions: [], hlssessions: [] };

  constructor(auth?: { user: string; password: string }) {
    super((r) => {
      if (auth && r.headers.authorization !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) {
        return { status: 401, body: { status: 'error', error: 'authentication error' } };
      }
      const m = /^\/v3\/([a-z]+)\/(list|kick)(?:\/(.+))?$/.exec(r.path);
      const items = m ? this.kinds[m[1]] : undefined;
      if (!m || !items) return { status: 404, body: '404 page not found' };
      if (m[2] === 'kick') {
        if (r.method !== 'POST') return { status: 404, body: '404 page not found' };
        const i = items.findIndex((x) => x.id === m[3]);
        if (i < 0) return { status: 404, body: { status: 'error', error: 'session not found' } };
        items.splice(i, 1);
        return { body: { status: 'ok' } };
      }
      const per = Number(r.query.get('itemsPerPage') ?? 100);
      const page = Number(r.query.get('page') ?? 0);
      const pageCount = Math.max(1, Math.ceil(items.length / per));
      const slice = items.slice(page * per, page * per + per).map((x) => ({ created: '2026-01-01T00:00:00Z', inboundBytes: 0, outboundBytes: 0, ...x }));
      return { body: { itemCount: items.length, pageCount, items: slice } };
    });
  }
}
