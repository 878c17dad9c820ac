// A batch job whose only pending work, between attempts, is the retry backoff.
import { ExponentialBackoff, RetryPolicy } from '@ballast/resilience';

const retry = new RetryPolicy({
  maxAttempts: 3,
  idempotent: true,
  shouldRetry: () => true,
  backoff: new ExponentialBackoff({ baseMs: 40, jitter: 'none' }),
});
let attempts = 0;
const result = await retry.execute(() => {
  attempts++;
  if (attempts < 3) throw new Error(`attempt ${attempts} failed`);
  return 'synced';
});
console.log(`retry: ${result} after ${attempts} attempts`);
