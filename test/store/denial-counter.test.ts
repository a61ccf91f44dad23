import { describe, expect, it } from 'vitest';
import { DenialCounter } from '../../src/store/denial-counter.js';

describe('DenialCounter: bounded counters of refusals that name nobody', () => {
  it('gives each of the first N sources its own counter, then folds new sources into "*"', () => {
    const c = new DenialCounter(3);
    for (let i = 0; i < 1000; i++) c.count(`10.0.0.${i}`, 'E_TOKEN_INVALID', i);
    c.count('10.0.0.1', 'E_TOKEN_INVALID', 2000); // a known source keeps its row
    const { items, total } = c.page({ limit: 10, offset: 0 });
    expect(total).toBe(4);
    expect(items.find((r) => r.source === '*')).toMatchObject({ count: 997, firstAt: 3, lastAt: 999 });
    expect(items.find((r) => r.source === '10.0.0.1')).toMatchObject({ count: 2, lastAt: 2000 });
    expect(items[0].source).toBe('10.0.0.1'); // most recent first
  });
});
