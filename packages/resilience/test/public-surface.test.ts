import { describe, expect, it } from 'vitest';
import * as resilience from '../src/index.js';

describe('the @ballast/resilience entry', () => {
  it('keeps timer, clock, GCRA and branding internals out of the public surface', () => {
    const names = Object.keys(resilience);
    for (const internal of ['TimerWheel', 'CoarseClock', 'gcra', 'markRejected']) {
      expect(names, internal).not.toContain(internal);
    }
  });

  it('still exports the policies, the stores and the refusal guard', () => {
    expect(Object.keys(resilience)).toEqual(
      expect.arrayContaining(['RetryPolicy', 'RateLimiter', 'MemoryRateLimitStore', 'isRejectedError']),
    );
  });
});
