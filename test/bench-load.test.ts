/**
 * The benchmark's ratios (bench/load.ts `pairedRatio`): each round's two measurements are compared with each other,
 * and the median of those ratios is reported — not the ratio of two medians that may come from different minutes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { median, pairedRatio } from '../bench/load.ts';

describe('bench ratios', () => {
  it('compares measurements of the same round and takes the median of the ratios', () => {
    // Round 2 ran in a slow minute for both sides; the ratio of medians (20 / 5 = 4) would mix rounds.
    const a = [10, 30, 20];
    const b = [5, 30, 5];
    assert.equal(pairedRatio(a, b), 2);
    assert.equal(median(a) / median(b), 4);
  });

  it('leaves out rounds where the reference answered nothing and pairs only rounds both sides have', () => {
    assert.equal(pairedRatio([8, 9, 12, 7], [4, 0, 6]), 2);
    assert.equal(pairedRatio([], [1, 2]), 0);
  });
});
