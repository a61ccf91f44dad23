/**
 * How a refusal becomes an RTSP answer (handlers/admission.ts refusal()): the pipeline's Decision alone decides
 * whether to ask for credentials (askCredentials) and whether Digest can succeed (digestPossible); the challenges
 * offered are the configured methods that can.
 */
import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/core/types.js';
import type { Ctx } from '../../src/rtsp/defs.js';
import { refusal } from '../../src/rtsp/handlers/admission.js';

function ctx(authMethods: Array<'basic' | 'digest'>): Ctx {
  return { host: { cfg: { authMethods } }, conn: { nonce: '0123456789abcdef0123456789abcdef' }, req: {}, session: undefined, named: false } as unknown as Ctx;
}
const deny = (d: Partial<Decision>): Decision => ({ allow: false, kind: 'viewer', ...d });
const challenges = (r: { headers?: Array<[string, string]> }): string[] => (r.headers ?? []).map(([, v]) => v.split(' ')[0]);

describe('RTSP refusal answers', () => {
  const ask = { code: 'E_CREDENTIALS_REQUIRED', askCredentials: true } as const;

  it('offers Digest exactly when the pipeline says it can succeed, intersected with authMethods', () => {
    const both = ctx(['basic', 'digest']);
    expect(challenges(refusal(both, deny({ ...ask, digestPossible: false })))).toEqual(['Basic']);
    expect(challenges(refusal(both, deny({ ...ask, digestPossible: true })))).toEqual(['Basic', 'Digest']);
    expect(challenges(refusal(ctx(['basic']), deny({ ...ask, digestPossible: true })))).toEqual(['Basic']);
    expect(challenges(refusal(ctx(['digest']), deny({ ...ask, digestPossible: true })))).toEqual(['Digest']);
  });

  it('answers 403 when no offered method could succeed', () => {
    expect(refusal(ctx(['digest']), deny({ ...ask, digestPossible: false }))).toEqual({ status: 403 });
    expect(refusal(ctx([]), deny(ask))).toEqual({ status: 403 });
  });

  it('asks only when the pipeline asks: failed credentials it does not ask again for are 403', () => {
    expect(refusal(ctx(['basic']), deny({ code: 'E_TOKEN_INVALID', askCredentials: false }))).toEqual({ status: 403 });
    expect(refusal(ctx(['basic']), deny({ code: 'E_TOKEN_INVALID' }))).toEqual({ status: 403 });
    expect(refusal(ctx(['basic']), deny({ code: 'E_TOKEN_INVALID', askCredentials: true, digestPossible: false })).status).toBe(401);
  });

  it('other refusals: 400 for a bad stream name, 500 internal, 503 when admissions cannot be recorded, 403 otherwise', () => {
    const c = ctx(['basic']);
    expect(refusal(c, deny({ code: 'E_VALIDATION' })).status).toBe(400);
    expect(refusal(c, deny({ code: 'E_INTERNAL' })).status).toBe(500);
    expect(refusal(c, deny({ code: 'E_UNAVAILABLE' })).status).toBe(503);
    expect(refusal(c, deny({ code: 'E_STREAM_BUSY' })).status).toBe(403);
    expect(refusal(c, deny({ code: 'E_LIMIT_REACHED' })).status).toBe(403);
  });
});
