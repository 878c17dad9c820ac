/** Formats a ratio as a percentage with up to `digits` decimals, trailing zeros dropped: 0.999 → `99.9%`. */
export function percent(ratio: number | null, digits = 3): string {
  if (ratio === null || !Number.isFinite(ratio)) return '-';
  return `${Number((ratio * 100).toFixed(digits))}%`;
}

/** Formats milliseconds for people, two units at most: `3d 4h`, `43m 12s`, `-` for null. */
export function humanDuration(ms: number | null): string {
  if (ms === null || !Number.isFinite(ms)) return '-';
  const units: [string, number][] = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ];
  const total = Math.max(0, Math.round(ms / 1000) * 1000);
  const first = units.findIndex(([, size]) => total >= size);
  if (first < 0) return '0s';
  const [unit, size] = units[first]!;
  const parts = [`${Math.floor(total / size)}${unit}`];
  const next = units[first + 1];
  if (next) {
    const n = Math.floor((total % size) / next[1]);
    if (n > 0) parts.push(`${n}${next[0]}`);
  }
  return parts.join(' ');
}

/** Renders rows as a plain-text table with a header and columns padded to their widest cell. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}
