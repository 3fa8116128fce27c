/**
 * The local token buckets on their own, with an explicit clock: refill, separate buckets per policy and client, the
 * token-budget form (spend after the fact, may go negative), and the sweep of refilled buckets when the table is full.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RateLimiter } from '../../src/policies/rate-limit/limiter.ts';
import type { RateLimitPolicy } from '../../src/snapshot/types.ts';

const policy = (id: string, requests: number, windowMs = 1000): RateLimitPolicy => ({
  id,
  requests,
  windowMs,
  burst: requests,
  key: 'clientIP',
  scope: 'local',
});

describe('local rate limiter', () => {
  it('refills over time and keeps policies and clients apart', () => {
    const limiter = new RateLimiter();
    const a = policy('api-a', 2);
    const b = policy('api-b', 1);
    assert.equal(limiter.take(a, '10.0.0.1', 0).allowed, true);
    assert.equal(limiter.take(a, '10.0.0.1', 0).allowed, true);
    const refused = limiter.take(a, '10.0.0.1', 0);
    assert.equal(refused.allowed, false);
    assert.equal(refused.retryAfterSeconds, 1);
    assert.equal(limiter.take(a, '10.0.0.2', 0).allowed, true, 'another client has its own bucket');
    assert.equal(limiter.take(b, '10.0.0.1', 0).allowed, true, 'another policy has its own bucket');
    assert.equal(limiter.take(a, '10.0.0.1', 500).allowed, true, 'half a window refills one of two');
    assert.equal(limiter.take(a, '10.0.0.1', 500).allowed, false);
  });

  it('lets a token budget go negative and waits until it refills', () => {
    const limiter = new RateLimiter();
    const tokens = policy('tokens', 100, 1000);
    assert.equal(limiter.spend(tokens, 'alice', 0, 1, 0).allowed, true);
    limiter.spend(tokens, 'alice', 250, Number.NEGATIVE_INFINITY, 0);
    const blocked = limiter.spend(tokens, 'alice', 0, 1, 0);
    assert.equal(blocked.allowed, false);
    assert.equal(blocked.retryAfterSeconds, 2);
    assert.equal(limiter.spend(tokens, 'alice', 0, 1, 1600).allowed, true);
  });

  it('sweeps refilled buckets when the table is full, keeping the ones in use', () => {
    const limiter = new RateLimiter();
    const p = policy('sweep', 5);
    for (let i = 0; i < 100_000; i++) limiter.take(p, `client-${i}`, 0);
    for (let i = 0; i < 4; i++) limiter.take(p, 'busy', 1500); // 1 token left, used half a window before the sweep
    // The table is full now: a new client at t=2000 sweeps every bucket idle for a window (they have refilled).
    assert.equal(limiter.take(p, 'newcomer', 2000).allowed, true);
    // Kept with its count: 1 + 0.5 s × 5/s − 1 = 2.5 (a fresh bucket would say 4).
    assert.equal(limiter.take(p, 'busy', 2000).remaining, 2);
    assert.equal(limiter.take(p, 'client-7', 2000).remaining, 4, 'a swept client starts with a full bucket');
  });
});
