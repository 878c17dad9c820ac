// A call waits in the bulkhead queue behind one that never finishes: the queue-wait limit ends the wait.
const { BulkheadPolicy, ChaosPolicy, isBulkheadRejectedError, pipeline } = require('@ballast/resilience');

async function main() {
  const bulkhead = new BulkheadPolicy({ limit: 1, maxQueued: 1, queueTimeoutMs: 40 });
  void bulkhead.execute(() => new Promise(() => {}));
  try {
    await bulkhead.execute(() => 'second');
    console.log('bulkhead: second call ran');
  } catch (error) {
    console.log(`bulkhead: ${isBulkheadRejectedError(error) ? error.reason : String(error)}`);
  }

  const slow = new ChaosPolicy({ fault: { kind: 'latency', ms: 30 }, rate: 1, enabled: true });
  const guarded = pipeline(new BulkheadPolicy({ limit: 1, maxQueued: 1, queueTimeoutMs: 5_000 }), slow);
  const results = await Promise.all([guarded.execute(() => 'first'), guarded.execute(() => 'queued')]);
  console.log(`bulkhead: ${results.join(', ')}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
