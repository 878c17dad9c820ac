// A game-day script: every call gets 50 ms of injected latency.
const { ChaosPolicy } = require('@ballast/resilience');

async function main() {
  const chaos = new ChaosPolicy({
    name: 'game-day',
    fault: { kind: 'latency', ms: 50 },
    rate: 1,
    enabled: true,
  });
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await chaos.execute(() => `call ${i}`));
  console.log(`chaos: ${answers.join(', ')}`);
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
