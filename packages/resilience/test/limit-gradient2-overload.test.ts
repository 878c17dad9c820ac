import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { ConcurrencyLimiter, type LimiterPermit } from '../src/shed/ConcurrencyLimiter.js';
import { Gradient2Limit } from '../src/shed/Gradient2Limit.js';

/**
 * The default limiter in front of a service so overloaded that every call is abandoned at the client's 250 ms
 * timeout and reported with `dropped()`. The RTT of every sample is then the timeout itself: constant, so the long
 * RTT equals the short one, the gradient is pinned at 1 and Gradient2's queue term (+0.8 a sample) raises the limit
 * to its ceiling. An overload signal must not raise the limit.
 */
describe('ConcurrencyLimiter default (Gradient2) when every call times out', () => {
  function overloaded(algorithm?: Gradient2Limit) {
    const clock = new ManualClock(0);
    const limiter = new ConcurrencyLimiter({ clock, queue: false, ...(algorithm ? { algorithm } : {}) });
    const running: { permit: LimiterPermit; until: number }[] = [];
    const start = limiter.limit;
    for (let now = 0; now < 10_000; now++) {
      // Open loop: 4 calls a millisecond, more than any limit the service could serve.
      for (let i = 0; i < 4; i++) {
        const permit = limiter.tryAcquire('critical');
        if (permit !== undefined) running.push({ permit, until: now + 250 });
      }
      clock.advance(1);
      while (running.length > 0 && running[0]!.until <= now + 1) running.shift()!.permit.dropped();
    }
    return { start, end: limiter.limit };
  }

  it('does not raise the limit on timeouts alone', () => {
    const { start, end } = overloaded();
    expect(end).toBeLessThanOrEqual(start);
  });

  it('does not run to maxLimit on timeouts alone, whatever the ceiling', () => {
    const { end } = overloaded(new Gradient2Limit({ initialLimit: 20, maxLimit: 1000 }));
    expect(end).toBeLessThan(1000);
  });
});
