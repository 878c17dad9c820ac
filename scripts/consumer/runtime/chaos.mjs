// A game-day script: every call gets 50 ms of injected latency.
import { ChaosPolicy } from '@ballast/resilience';

const chaos = new ChaosPolicy({
  name: 'game-day',
  fault: { kind: 'latency', ms: 50 },
  rate: 1,
  enabled: true,
});
const answers = [];
for (let i = 0; i < 3; i++) answers.push(await chaos.execute(() => `call ${i}`));
console.log(`chaos: ${answers.join(', ')}`);
