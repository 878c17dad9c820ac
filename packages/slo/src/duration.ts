/**
 * Durations as written in specs and PromQL (`30d`, `5m`, `4m40s`) and their length in milliseconds.
 */

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const COMPOUND = /^(?:\d+(?:ms|[smhdw]))+$/;
const PART = /(\d+)(ms|[smhdw])/g;

/**
 * Parses a fixed-length duration in Prometheus notation (`ms`, `s`, `m`, `h`, `d`, `w`, compound allowed:
 * `1h30m`) into milliseconds. Returns `undefined` for anything else, including calendar units (`M`, `Q`, `Y`),
 * which have no fixed length.
 *
 * @example
 * ```ts
 * import { parseDuration } from '@ballast/slo';
 * parseDuration('30d'); // 2_592_000_000
 * parseDuration('4m40s'); // 280_000
 * parseDuration('1M'); // undefined
 * ```
 */
export function parseDuration(text: string): number | undefined {
  if (!COMPOUND.test(text)) return undefined;
  let total = 0;
  for (const match of text.matchAll(PART)) total += Number(match[1]) * UNIT_MS[match[2]!]!;
  return total > 0 ? total : undefined;
}

/**
 * Formats milliseconds as the shortest Prometheus duration (`1h`, `4m40s`, `2d19h12m`). Sub-millisecond parts
 * are rounded to the millisecond.
 *
 * @example
 * ```ts
 * import { formatDuration } from '@ballast/slo';
 * formatDuration(280_000); // '4m40s'
 * ```
 */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms);
  if (rest <= 0) return '0s';
  let out = '';
  for (const unit of ['d', 'h', 'm', 's', 'ms'] as const) {
    const size = UNIT_MS[unit]!;
    const n = Math.floor(rest / size);
    if (n > 0) {
      out += `${n}${unit}`;
      rest -= n * size;
    }
  }
  return out;
}
