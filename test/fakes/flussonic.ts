/** Fake Flussonic legacy API: `GET /flussonic/api/sessions` and `POST /flussonic/api/close_sessions` (ids, one per line). */
import { FakeHttp } from './fake-http.js';

export interface FlussonicSession {
  id: string;
  name: string;
  ip: string;
  token?: string;
  type?: string;
  proto?: string;
}

export class FakeFlussonic extends FakeHttp {
  sessions: FlussonicSession[] = [];

  constructor(auth: { user: string; password: string }) {
    super((r) => {
      if (r.headers.authorization !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) return { status: 401, body: 'auth required' };
      if (r.path === '/flussonic/api/sessions' && r.method === 'GET') return { body: { event: 'user.list', sessions: this.sessions } };
      if (r.path === '/flussonic/api/close_sessions' && r.method === 'POST') {
        const ids = r.body.split('\n').filter(Boolean);
        this.sessions = this.sessions.filter((s) => !ids.includes(s.id));
        return { body: 'true' };
      }
      return { status: 404, body: 'not found' };
    });
  }
}
