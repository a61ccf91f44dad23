/**
 * Fake MistServer controller API on `POST /api`: `stop_sessid`, `clients`, and the MD5 challenge login of
 * controller_api.cpp when an account is set (the command runs only once the login succeeds).
 */
import { createHash } from 'node:crypto';
import { FakeHttp } from './fake-http.js';

export interface MistSession {
  host: string;
  stream: string;
  protocol: string;
  sessid: string;
  conntime: number;
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

export class FakeMist extends FakeHttp {
  sessions: MistSession[] = [];
  readonly challenge = 'c0ffee0123456789';

  constructor(account?: { user: string; password: string }) {
    super((r) => {
      if (r.path !== '/api' || r.method !== 'POST') return { status: 404, body: 'not found' };
      const req = JSON.parse(r.body) as Record<string, any>;
      const out: Record<string, unknown> = {};
      if (account) {
        const a = req.authorize ?? {};
        const ok = a.username === account.user && a.password === md5(md5(account.password) + this.challenge);
        if (!ok) return { body: { authorize: { status: 'CHALL', challenge: this.challenge } } };
        out.authorize = { status: 'OK' };
      }
      if (req.stop_sessid !== undefined) {
        const ids = Array.isArray(req.stop_sessid) ? req.stop_sessid : [req.stop_sessid];
        this.sessions = this.sessions.filter((s) => !ids.includes(s.sessid));
      }
      if (req.clients) {
        const fields: string[] = req.clients.fields?.length ? req.clients.fields : ['host', 'stream', 'protocol', 'conntime', 'sessid'];
        // Mist answers the columns in its own fixed order, not the order asked for
        const order = ['host', 'stream', 'protocol', 'conntime', 'position', 'down', 'up', 'downbps', 'upbps', 'sessid'].filter((f) => fields.includes(f));
        out.clients = {
          time: 1767225600,
          fields: order,
          data: this.sessions.map((s) => order.map((f) => (s as unknown as Record<string, unknown>)[f] ?? 0)),
        };
      }
      return { body: out };
    });
  }
}
