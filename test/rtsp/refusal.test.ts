/**
 * How a refusal becomes an RTSP answer (handlers/admission.ts refusal()): the pipeline's Decision decides whether to
 * ask for credentials, and the challenges offered are the configured methods that can succeed for the stream. The
 * decisions here are shaped as the pipeline gives them (with and without `digestPossible`, issue 8 §4).
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/types.js';
import type { Ctx } from '../../src/rtsp/defs.js';
import { refusal } from '../../src/rtsp/handlers/admission.js';

function ctx(authMethods: Array<'basic' | 'digest'>, keyed: string[] = []): Ctx {
  const host = { cfg: { authMethods }, hasStaticKey: (s: string) => keyed.includes(s) };
  return { host, conn: { nonce: '0123456789abcdef0123456789abcdef' }, req: {}, session: undefined, named: false } as unknown as Ctx;
}
const deny = (d: Partial<Decision> & { digestPossible?: boolean }): Decision => ({ allow: false, kind: 'viewer', ...d }) as Decision;
const challenges = (r: { headers?: Array<[string, string]> }): string[] => (r.headers ?? []).map(([, v]) => v.split(' ')[0]);

describe('RTSP refusal answers', () => {
  it('with digestPossible from the pipeline: Digest offered exactly when it says so, intersected with authMethods', () => {
    const both = ctx(['basic', 'digest'], ['live/keyed']);
    const ask = { code: 'E_CREDENTIALS_REQUIRED', askCredentials: true } as const;
    expect(challenges(refusal(both, deny({ ...ask, digestPossible: false }), 'live/keyed', false))).toEqual(['Basic']);
    expect(challenges(refusal(both, deny({ ...ask, digestPossible: true }), 'live/plain', false))).toEqual(['Basic', 'Digest']);
    expect(refusal(ctx(['digest']), deny({ ...ask, digestPossible: false }), 'live/x', false)).toEqual({ status: 403 });
    expect(challenges(refusal(ctx(['digest']), deny({ ...ask, digestPossible: true }), 'live/x', false))).toEqual(['Digest']);
  });

  it('with digestPossible from the pipeline, asking is its decision alone: wrong credentials it does not ask again get 403', () => {
    const r = refusal(ctx(['basic']), deny({ code: 'E_TOKEN_INVALID', askCredentials: false, digestPossible: false }), 'live/x', true);
    expect(r).toEqual({ status: 403 });
    const again = refusal(ctx(['basic']), deny({ code: 'E_TOKEN_INVALID', askCredentials: true, digestPossible: false }), 'live/x', true);
    expect(again.status).toBe(401);
  });

  it('from a pipeline without digestPossible: wrong Basic/Digest credentials are asked again, Digest where the stream has a key', () => {
    const c = ctx(['basic', 'digest'], ['live/keyed']);
    expect(challenges(refusal(c, deny({ code: 'E_TOKEN_INVALID' }), 'live/plain', true))).toEqual(['Basic']);
    expect(challenges(refusal(c, deny({ code: 'E_TOKEN_INVALID' }), 'live/keyed', true))).toEqual(['Basic', 'Digest']);
    expect(refusal(c, deny({ code: 'E_TOKEN_INVALID' }), 'live/plain', false)).toEqual({ status: 403 }); // a bad URL token
  });

  it('other refusals: 400 for a bad stream name, 500 for an internal failure, 403 otherwise', () => {
    const c = ctx(['basic']);
    expect(refusal(c, deny({ code: 'E_VALIDATION' }), '', false).status).toBe(400);
    expect(refusal(c, deny({ code: 'E_INTERNAL' }), 'x', false).status).toBe(500);
    expect(refusal(c, deny({ code: 'E_STREAM_BUSY' }), 'x', false).status).toBe(403);
    expect(refusal(c, deny({ code: 'E_LIMIT_REACHED' }), 'x', true).status).toBe(403);
  });
});
