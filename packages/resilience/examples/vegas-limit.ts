import type { Clock } from '@ballast/core';
import { ConcurrencyLimiter, VegasLimit } from '@ballast/resilience';

/**
 * A limiter in front of a report database whose queries queue inside the database once too many run: Vegas keeps
 * the limit where a few of them queue (alpha 3 to beta 6 calls at limits under 100), learning the no-load query
 * time from the fastest ones and re-measuring it every 15 to 30 rounds. A timed-out query is a drop (x0.9 at once).
 */
export function reportDatabaseLimiter(
  options: { readonly clock?: Clock; readonly random?: () => number } = {},
): ConcurrencyLimiter {
  return new ConcurrencyLimiter({
    name: 'report-db',
    algorithm: new VegasLimit({
      initialLimit: 10,
      minLimit: 2,
      maxLimit: 200,
      ...(options.random ? { random: options.random } : {}),
    }),
    queue: false,
    ...(options.clock ? { clock: options.clock } : {}),
  });
}
