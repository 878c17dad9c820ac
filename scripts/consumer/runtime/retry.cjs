// A batch job whose only pending work, between attempts, is the retry backoff.
const { ExponentialBackoff, RetryPolicy } = require('@ballast/resilience');

async function main() {
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
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
