import { invalidOption } from '@ballast/core';
import type { RebuildReport, Repository } from './repository.js';

/**
 * The `rebuild-projections` command: rebuilds the order projections (order list, items, stock reservations, open
 * checkout sagas) from the order events in one transaction and reports what it replayed and how many rows had
 * drifted. `--check` rolls the rebuild back and exits 1 when the live projections drifted (a consistency check for
 * cron or a drill); without it the rebuilt projections are committed and the exit code is 0.
 *
 * @example
 * ```ts
 * const { report, exitCode } = await rebuildCommand(['--check'], repo);
 * ```
 */
export async function rebuildCommand(
  args: readonly string[],
  repo: Pick<Repository, 'rebuildOrderProjections'>,
): Promise<{ report: RebuildReport; exitCode: number }> {
  const unknown = args.filter((a) => a !== '--check');
  if (unknown.length > 0) throw invalidOption('arguments', 'nothing, or `--check`', unknown.join(' '));
  const check = args.includes('--check');
  const report = await repo.rebuildOrderProjections({ dryRun: check });
  return { report, exitCode: check && report.drift > 0 ? 1 : 0 };
}
