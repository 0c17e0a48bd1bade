import { backoffDelay, nextWaitIndex, RateLimiter } from './retry-policy.js';

describe('backoffDelay', () => {
  it.each([
    // attempt, random, delay: initial 100 ms doubling, capped at 10 s, jitter in [half, full)
    [0, 0, 50],
    [0, 0.999, 99],
    [1, 0, 100],
    [3, 0.5, 600],
    [7, 0, 5000],
    [7, 0.999, 9995],
    [50, 0, 5000],
    [1000, 0.999, 9995],
  ])('attempt %i with random %f waits %i ms', (attempt, random, delay) => {
    expect(backoffDelay(attempt, {}, () => random)).toBe(delay);
  });

  it('honours custom bounds', () => {
    expect(backoffDelay(10, { initialDelayMs: 20, maxDelayMs: 200 }, () => 0.999)).toBe(199);
  });
});

describe('nextWaitIndex (Consul client rules, API.md §3.3)', () => {
  it.each([
    // previous, returned, next
    [5, 9, 9], // moved forward: block past it
    [9, 9, 9], // timed out unchanged: block again
    [9, 4, 1], // went backwards (state replaced): start over
    [0, 0, 1], // never below 1, or the read would not block
    [7, 0, 1],
  ])('previous %i, server answered %i → %i', (previous, returned, next) => {
    expect(nextWaitIndex(previous, returned)).toBe(next);
  });
});

describe('RateLimiter', () => {
  it('lets a burst of two through, then spaces requests by the refill interval', () => {
    const limiter = new RateLimiter(2, 500, 0);
    expect([limiter.take(0), limiter.take(0), limiter.take(0), limiter.take(0)]).toEqual([0, 0, 500, 1000]);
  });

  it('refills while idle, never above the burst', () => {
    const limiter = new RateLimiter(2, 500, 0);
    limiter.take(0);
    limiter.take(0);
    expect(limiter.take(10_000)).toBe(0);
    expect(limiter.take(10_000)).toBe(0);
    expect(limiter.take(10_000)).toBe(500);
  });
});
