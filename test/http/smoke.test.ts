import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startUsher, type TestUsher } from '../helpers/usher.js';

describe('admission over real HTTP (smoke)', () => {
  let u: TestUsher;
  beforeAll(async () => {
    u = await startUsher();
  });
  afterAll(async () => u.stop());

  it('admits a signed token and lists the session', async () => {
    const token = u.sign({ stream: 'live/demo', account: 'alice' });
    const r = await u.api('POST', '/v1/admission', { action: 'play', stream: 'live/demo', token, ip: '10.0.0.1' });
    expect(r.status).toBe(200);
    expect(r.body.allow).toBe(true);
    const list = await u.api('GET', '/v1/sessions?status=active');
    expect(list.body.items.map((s: { id: string }) => s.id)).toContain(r.body.sessionId);
  });
});
