import { Bench } from 'tinybench';

/** One measured row of a benchmark. */
export interface BenchResult {
  readonly name: string;
  /** Operations per second (for load tests: requests per second). */
  readonly opsPerSec: number;
  /** Median time per operation in nanoseconds (NaN when the tool reports none). */
  readonly medianNs: number;
}

/** A task for {@link measure}: `fn` performs `batch` operations per call (default 1). */
export interface BenchTask {
  readonly name: string;
  readonly fn: () => unknown;
  /** Operations one call of `fn` performs; results are divided by it. @default 1 */
  readonly batch?: number;
}

/** Options for {@link measure}. */
export interface MeasureOptions {
  /** Milliseconds to sample each task. @default 1000 */
  readonly timeMs?: number;
  /** Milliseconds of warm-up per task. @default 250 */
  readonly warmupMs?: number;
}

/**
 * Measures every task with tinybench in this process, one after the other, and returns one row each.
 *
 * @example
 * ```ts
 * const rows = await measure([{ name: 'bare', fn: async () => {}, batch: 1 }]);
 * ```
 */
export async function measure(
  tasks: readonly BenchTask[],
  options: MeasureOptions = {},
): Promise<BenchResult[]> {
  const bench = new Bench({ time: options.timeMs ?? 1000, warmupTime: options.warmupMs ?? 250 });
  for (const task of tasks) bench.add(task.name, task.fn);
  await bench.run();
  return tasks.map((task) => {
    const result = bench.getTask(task.name)?.result;
    if (!result || !('latency' in result)) {
      const error = result && 'error' in result ? String(result.error) : 'no result';
      throw new Error(`benchmark task ${task.name} failed: ${error}`);
    }
    const batch = task.batch ?? 1;
    return {
      name: task.name,
      opsPerSec: (batch * 1000) / result.period,
      medianNs: (result.latency.p50 * 1e6) / batch,
    };
  });
}

/** Finds the row called `name`; throws when it is missing. */
export function row(results: readonly BenchResult[], name: string): BenchResult {
  const found = results.find((r) => r.name === name);
  if (!found) throw new Error(`no benchmark row named ${name}`);
  return found;
}

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits }) : '-';
}

/**
 * Prints the human table, then, as the very last line, one JSON object:
 * `{"bench": name, "results": [...], "ratios": {...}}` (plus `extra` fields when given).
 */
export function report(
  bench: string,
  results: readonly BenchResult[],
  ratios: Record<string, number>,
  extra: Record<string, unknown> = {},
): void {
  const width = Math.max(4, ...results.map((r) => r.name.length));
  const lines = [
    `\n${bench}`,
    `${'name'.padEnd(width)}  ${'ops/s'.padStart(14)}  ${'median ns'.padStart(12)}`,
  ];
  for (const r of results) {
    lines.push(
      `${r.name.padEnd(width)}  ${fmt(r.opsPerSec).padStart(14)}  ${fmt(r.medianNs, 1).padStart(12)}`,
    );
  }
  lines.push('', 'ratios:');
  for (const [k, v] of Object.entries(ratios)) lines.push(`  ${k.padEnd(width)}  ${fmt(v, 3)}`);
  console.log(lines.join('\n'));
  const round = (n: number): number => (Number.isFinite(n) ? Number(n.toPrecision(6)) : n);
  const json = {
    bench,
    results: results.map((r) => ({
      name: r.name,
      opsPerSec: round(r.opsPerSec),
      medianNs: round(r.medianNs),
    })),
    ratios: Object.fromEntries(Object.entries(ratios).map(([k, v]) => [k, round(v)])),
    ...extra,
  };
  console.log(JSON.stringify(json));
}
