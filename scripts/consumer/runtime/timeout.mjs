// Timeouts racing calls that never answer: the timeout is the only thing left to wait for.
import { TimeoutPolicy, isTimeoutError } from '@ballast/resilience';

const hung = () => new Promise(() => {});
const aggressive = new TimeoutPolicy({ timeoutMs: 40, strategy: 'aggressive' });
try {
  await aggressive.execute(hung);
  console.log('aggressive: answered');
} catch (error) {
  console.log(`aggressive: ${isTimeoutError(error) ? 'timed out' : String(error)}`);
}

// Cooperative: the call stops when its signal aborts.
const cooperative = new TimeoutPolicy({ timeoutMs: 40 });
try {
  await cooperative.execute(
    ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
  );
  console.log('cooperative: answered');
} catch (error) {
  console.log(`cooperative: ${isTimeoutError(error) ? 'timed out' : String(error)}`);
}

// A call that answers at once must not keep the process waiting for its ten-minute limit.
const generous = new TimeoutPolicy({ timeoutMs: 600_000, strategy: 'aggressive' });
console.log(`fast: ${await generous.execute(() => 'answered')}`);
const generousSignal = new TimeoutPolicy({ timeoutMs: 600_000 });
console.log(
  `fast with signal: ${await generousSignal.execute(({ signal }) => (signal.aborted ? 'aborted' : 'answered'))}`,
);
