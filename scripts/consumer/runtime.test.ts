import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot, userEnv } from './built.js';

// Plain scripts, as a team outside this repository writes them, run by a real `node` against the BUILT packages
// (resolved by package name through node_modules to each package's `dist`; no tsx, no `@ballast/source`
// condition). They rely on `npm run build` having run (`npm install` runs it as `prepare`); `ensureBuilt` rebuilds
// when a source file is newer than its output.
//
// Each script's only pending work at some point is a wait on a Ballast timer (a retry backoff, a timeout racing a
// hung call, a bulkhead queue wait, injected latency). If such a timer did not hold the process, the ES module
// would exit with code 13 (unsettled top-level await) and the CommonJS one with code 0 and its output missing.
// The SLO engine script checks the other half of the contract: background timers never keep a process alive
// (the run would hit the kill timeout below).

const run = promisify(execFile);
const dir = join(repoRoot, 'scripts', 'consumer', 'runtime');

const scenarios = {
  retry: 'retry: synced after 3 attempts\n',
  timeout: 'aggressive: timed out\ncooperative: timed out\nfast: answered\nfast with signal: answered\n',
  bulkhead: 'bulkhead: queue-timeout\nbulkhead: first, queued\n',
  chaos: 'chaos: call 0, call 1, call 2\n',
  'slo-engine': 'slo: engine tracking 1 SLO\n',
} as const;

const cases = Object.entries(scenarios).flatMap(([name, stdout]) =>
  (['mjs', 'cjs'] as const).map((ext) => ({ script: `${name}.${ext}`, stdout })),
);

describe('plain Node scripts using the built packages', () => {
  beforeAll(() => ensureBuilt(), 180_000);

  it.each(cases)('$script finishes its work and exits 0', async ({ script, stdout }) => {
    const result = await run(process.execPath, [join(dir, script)], {
      cwd: dir,
      env: userEnv(),
      // Generous: every script's own waits add up to well under a second. A timer that holds the process when it
      // should not (a ten-minute timeout, an SLO engine tick) makes the run reach this and fail.
      timeout: 15_000,
    }).then(
      ({ stdout: out, stderr }) => ({ code: 0, signal: null, stdout: out, stderr }),
      (error: { code?: number; signal?: string; stdout?: string; stderr?: string }) => ({
        code: error.code,
        signal: error.signal ?? null,
        stdout: error.stdout,
        stderr: error.stderr,
      }),
    );
    expect(result).toEqual({ code: 0, signal: null, stdout, stderr: '' });
  });
});
