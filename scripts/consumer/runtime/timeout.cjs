// Timeouts racing calls that never answer: the timeout is the only thing left to wait for.
const { TimeoutPolicy, isTimeoutError } = require('@ballast/resilience');

async function main() {
  const hung = () => new Promise(() => {});
  const aggressive = new TimeoutPolicy({ timeoutMs: 40, strategy: 'aggressive' });
  try {
    await aggressive.execute(hung);
    console.log('aggressive: answered');
  } catch (error) {
    console.log(`aggressive: ${isTimeoutError(error) ? 'timed out' : String(error)}`);
  }

  const cooperative = new TimeoutPolicy({ timeoutMs: 40 });
  try {
    await cooperative.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    console.log('cooperative: answered');
  } catch (error) {
    console.log(`cooperative: ${isTimeoutError(error) ? 'timed out' : String(error)}`);
  }

  const generous = new TimeoutPolicy({ timeoutMs: 600_000, strategy: 'aggressive' });
  console.log(`fast: ${await generous.execute(() => 'answered')}`);
  const generousSignal = new TimeoutPolicy({ timeoutMs: 600_000 });
  console.log(
    `fast with signal: ${await generousSignal.execute(({ signal }) => (signal.aborted ? 'aborted' : 'answered'))}`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
