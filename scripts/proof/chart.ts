/** One line of a chart: a name and its points. */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number]>;
}

/** What to draw: titles, axis labels, and the series. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Optional horizontal reference line (e.g. capacity). */
  readonly reference?: { readonly y: number; readonly label: string };
  /** Use a log scale on x (offered load 1x/2x/4x). @default false */
  readonly logX?: boolean;
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (Math.abs(v) >= 1000) return `${Math.round(v / 100) / 10}k`;
  return Number.isInteger(v) ? String(v) : v.toFixed(v < 10 ? 2 : 1);
}

/** Renders a self-contained SVG line chart (no scripts, no external resources). */
export function lineChart(spec: ChartSpec): string {
  const W = 640;
  const H = 320;
  const L = 64;
  const R = 150;
  const T = 36;
  const B = 48;
  const pts = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const tx = (x: number) => (spec.logX ? Math.log2(Math.max(x, 1e-9)) : x);
  const xs = pts.map(([x]) => tx(x));
  const xMin = xs.length ? Math.min(...xs) : 0;
  const xMax = xs.length ? Math.max(...xs) : 1;
  const yMax = niceMax(Math.max(...pts.map(([, y]) => y), spec.reference?.y ?? 0));
  const sx = (x: number) => L + ((tx(x) - xMin) / (xMax - xMin || 1)) * (W - L - R);
  const sy = (y: number) => H - B - (y / yMax) * (H - T - B);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escape(spec.title)}" font-family="system-ui, sans-serif" font-size="12">`,
    `<text x="${W / 2}" y="20" text-anchor="middle" font-weight="600" font-size="14">${escape(spec.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#333"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#333"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    out.push(
      `<line x1="${L}" y1="${sy(y)}" x2="${W - R}" y2="${sy(y)}" stroke="#eee"/>`,
      `<text x="${L - 6}" y="${sy(y) + 4}" text-anchor="end">${fmt(y)}</text>`,
    );
  }
  const xTicks = [...new Set(spec.series.flatMap((s) => s.points.map(([x]) => x)))].sort((a, b) => a - b);
  const step = Math.max(1, Math.ceil(xTicks.length / 8));
  xTicks.forEach((x, i) => {
    if (i % step === 0) out.push(`<text x="${sx(x)}" y="${H - B + 16}" text-anchor="middle">${fmt(x)}</text>`);
  });
  out.push(
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${escape(spec.xLabel)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${escape(spec.yLabel)}</text>`,
  );
  if (spec.reference) {
    const y = sy(spec.reference.y);
    out.push(
      `<line x1="${L}" y1="${y}" x2="${W - R}" y2="${y}" stroke="#999" stroke-dasharray="4 3"/>`,
      `<text x="${W - R - 4}" y="${y - 4}" text-anchor="end" fill="#666">${escape(spec.reference.label)}</text>`,
    );
  }
  spec.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const valid = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    const d = valid.map(([x, y], j) => `${j === 0 ? 'M' : 'L'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ');
    if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="2"/>`);
    for (const [x, y] of valid) out.push(`<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${colour}"/>`);
    const ly = T + 8 + i * 18;
    out.push(
      `<rect x="${W - R + 12}" y="${ly - 8}" width="12" height="3" fill="${colour}"/>`,
      `<text x="${W - R + 30}" y="${ly - 3}">${escape(s.name)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}
