/**
 * Fake Node-Media-Server 4.4.3 API, written from its src/api/handlers/auth.js and sessions.js: one-step login
 * (`POST /api/v1/login {username, password}` → `data.token`), a bearer JWT on every other call, `GET
 * /api/v1/sessions|streams|relay` and `DELETE /api/v1/sessions/:id`. Everything else about NMS is tested against
 * the real server (test/e2e/nms.test.ts); this fake exists only for what the real one cannot show within a test:
 * how many logins Usher makes (a refused login must not be retried at once: NMS locks the user out for 15 min
 * after 5 failures), which the real server does not expose.
 */
import { randomBytes } from 'node:crypto';
import { FakeHttp } from './fake-http.js';

export class FakeNms extends FakeHttp {
  /** Tokens handed out; clearing it plays an expired JWT. */
  tokens = new Set<string>();
  /** The password the fake accepts (change it to play a wrong one in Usher's config). */
  password: string;

  constructor(private readonly account: { user: string; password: string }) {
    super((r) => {
      if (r.path === '/api/v1/login' && r.method === 'POST') {
        const b = JSON.parse(r.body || '{}') as { username?: string; password?: string };
        if (!b.username || !b.password) return { status: 400, body: { success: false, data: {}, message: 'Username and password are required' } };
        if (b.username !== this.account.user || b.password !== this.password) return { status: 401, body: { success: false, data: {}, message: 'Invalid username or password' } };
        const token = `h.${Buffer.from(JSON.stringify({ username: b.username })).toString('base64url')}.${randomBytes(8).toString('hex')}`;
        this.tokens.add(token);
        return { body: { success: true, data: { token, user: { username: b.username }, expiresIn: '24h' }, message: 'Login successful' } };
      }
      const bearer = (r.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!this.tokens.has(bearer)) return { status: 401, body: { success: false, error: 'Invalid or missing authentication token', code: 'UNAUTHORIZED' } };
      const m = /^\/api\/v1\/sessions\/(.+)$/.exec(r.path);
      if (m && r.method === 'DELETE') return { status: 404, body: { success: false, data: {}, message: 'Session not found' } };
      return { status: 404, body: 'not found' };
    });
    this.password = account.password;
  }
}
