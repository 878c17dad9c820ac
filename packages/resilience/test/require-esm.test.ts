import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const built = existsSync(join(packageDir, 'dist', 'index.js'));
if (!built)
  console.warn(
    'require(esm) test skipped: packages/resilience/dist is missing (run `npx tsc -b tsconfig.build.json`)',
  );

describe.skipIf(!built)("CommonJS callers: require('@ballast/resilience') on Node's require(esm)", () => {
  it('loads the built package and exposes its exports', () => {
    const script = [
      "const r = require('@ballast/resilience');",
      "const names = ['pipeline', 'CircuitBreakerPolicy', 'BulkheadPolicy', 'TimeoutPolicy', 'RetryPolicy', 'RetryBudget',",
      "  'FallbackPolicy', 'ChaosPolicy', 'Deadline', 'presets', 'isBrokenCircuitError', 'isBulkheadRejectedError'];",
      'const missing = names.filter((n) => r[n] === undefined);',
      'const breaker = r.presets.internalRpc();',
      'process.stdout.write(JSON.stringify({ missing, state: breaker.state, count: Object.keys(r).length }));',
    ].join('\n');
    const out = execFileSync(process.execPath, ['-e', script], { cwd: packageDir, encoding: 'utf8' });
    const result = JSON.parse(out) as { missing: string[]; state: string; count: number };
    expect(result.missing).toEqual([]);
    expect(result.state).toBe('closed');
    expect(result.count).toBeGreaterThan(40);
  });
});
