import { measure, type BenchResult, type BenchTask } from '@ballast/testkit';

/**
 * Measures `tasks` in `rounds` alternating rounds (A B, B A, A B, ...) and merges each task's rows: mean ops/s and
 * the median of the per-round medians. On a shared, busy machine this keeps a drift in load from favouring
 * whichever task happened to run during the quiet moment.
 */
export async function measureInRounds(
  tasks: readonly BenchTask[],
  rounds: number,
  timeMs: number,
): Promise<BenchResult[]> {
  const rows = new Map<string, BenchResult[]>();
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? tasks : [...tasks].reverse();
    for (const row of await measure(order, { timeMs, warmupMs: r === 0 ? 200 : 50 })) {
      rows.set(row.name, [...(rows.get(row.name) ?? []), row]);
    }
  }
  return tasks.map((task) => {
    const all = rows.get(task.name)!;
    const medians = all.map((r) => r.medianNs).sort((a, b) => a - b);
    return {
      name: task.name,
      opsPerSec: all.reduce((sum, r) => sum + r.opsPerSec, 0) / all.length,
      medianNs: medians[Math.floor(medians.length / 2)]!,
    };
  });
}
