/**
 * Fake Node-Media-Server v4 API: challenge login (`POST /api/v1/login`, HMAC-SHA256(password, challenge)), a bearer
 * JWT on every other call, `GET /api/v1/sessions` and `DELETE /api/v1/sessions/:id`.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { FakeHttp } from './fake-http.js';

export interface NmsSession {
  id: string;
  ip: string;
  isPublisher: boolean;
  protocol: string;
  app: string;
  name: string;
}

export class FakeNms extends FakeHttp {
  sessions: NmsSession[] = [];
  private challenge = '';
  /** Tokens handed out; clearing it plays an expired JWT. */
  tokens = new Set<string>();

  constructor(account: { user: string; password: string }) {
    super((r) => {
      if (r.path === '/api/v1/login' && r.method === 'POST') {
        const b = JSON.parse(r.body) as { username?: string; challenge?: string; response?: string };
        if (b.username !== account.user) return { status: 401, body: { success: false, data: {}, message: 'Invalid username or password' } };
        if (!b.challenge) {
          this.challenge = randomBytes(32).toString('hex');
          return { body: { success: true, data: { challenge: this.challenge }, message: 'Challenge issued' } };
        }
        const want = createHmac('sha256', account.password).update(this.challenge).digest('hex');
        if (b.challenge !== this.challenge || b.response !== want) return { status: 401, body: { success: false, data: {}, message: 'Invalid username or password' } };
        const token = `jwt-${randomBytes(8).toString('hex')}`;
        this.tokens.add(token);
        return { body: { success: true, data: { token, user: { username: account.user }, expiresIn: '24h' }, message: 'Login successful' } };
      }
      const bearer = (r.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!this.tokens.has(bearer)) return { status: 401, body: { success: false, error: 'Invalid or missing authentication token', code: 'UNAUTHORIZED' } };
      if (r.path === '/api/v1/sessions' && r.method === 'GET') {
        const sessions = this.sessions.map((s) => ({ ...s, type: undefined, inBytes: 0, outBytes: 0, createTime: 1767225600000 }));
        return { body: { success: true, data: { sessions, total: sessions.length }, message: 'Sessions retrieved successfully' } };
      }
      const m = /^\/api\/v1\/sessions\/(.+)$/.exec(r.path);
      if (m && r.method === 'DELETE') {
        const i = this.sessions.findIndex((s) => s.id === m[1]);
        if (i < 0) return { status: 404, body: { success: false, data: {}, message: 'Session not found' } };
        this.sessions.splice(i, 1);
        return { body: { success: true, data: { id: m[1] }, message: 'Session deleted successfully' } };
      }
      return { status: 404, body: 'not found' };
    });
  }
}
