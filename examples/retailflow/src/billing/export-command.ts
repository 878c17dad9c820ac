import { parseArgs } from 'node:util';
import type { SqlDriver } from '../data/index.js';
import { parsePeriod } from './period.js';
import { exportUsage, UsageLedger, type UsageCloudEvent } from './usage.js';

/** The usage of the command, printed on bad arguments. */
export const USAGE_EXPORT_HELP = `usage: usage-export --period YYYY-MM [--tenant ID] [--time-zone ZONE] [--source URI]
  Prints the period's usage events as a CloudEvents 1.0 JSON batch (application/cloudevents-batch+json).
  --time-zone  the zone the month is cut in (default UTC; a tenant's own zone with --tenant)
  --source     the CloudEvents source of this deployment (default /retailflow)`;

/**
 * `usage-export`: a period's usage events as a CloudEvents JSON batch, for a billing system to import. Event ids
 * are the meter's, so importing an overlapping export twice bills nothing twice. Throws a `TypeError` saying what
 * was expected on bad arguments.
 *
 * @example
 * ```ts
 * const events = await usageExportCommand(['--period', '2026-12'], repo.driver);
 * ```
 */
export async function usageExportCommand(
  argv: readonly string[],
  driver: SqlDriver,
): Promise<UsageCloudEvent[]> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      period: { type: 'string' },
      tenant: { type: 'string' },
      'time-zone': { type: 'string', default: 'UTC' },
      source: { type: 'string', default: '/retailflow' },
    },
    strict: true,
  });
  if (values.period === undefined) throw new TypeError(`Expected \`--period YYYY-MM\`\n${USAGE_EXPORT_HELP}`);
  const period = parsePeriod(values.period, values['time-zone']);
  return exportUsage(new UsageLedger(driver), period, {
    source: values.source,
    ...(values.tenant === undefined ? {} : { tenantId: values.tenant }),
  });
}
