/**
 * Inline SVG line charts for the HTML report. Every text drawn is escaped; callers pass numbers and labels.
 */

/** Escapes text for HTML and SVG content and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One line of a chart: `[x, y]` points, `y` null for gaps. */
export interface ChartSeries {
  readonly points: readonly (readonly [number, number | null])[];
  /** CSS class of the line (`line-budget`). */
  readonly className: string;
}

/** A horizontal or sloped reference line from `(x0, y0)` to `(x1, y1)`, with a label at its right end. */
export interface ChartGuide {
  readonly from: readonly [number, number];
  readonly to: readonly [number, number];
  readonly className: string;
  readonly label: string;
}

/** What {@link lineChart} draws. */
export interface LineChart {
  readonly title: string;
  readonly x: readonly [number, number];
  readonly y: readonly [number, number];
  readonly series: readonly ChartSeries[];
  readonly guides: readonly ChartGuide[];
  /** Formats a y value for the axis (`99.9%`). */
  readonly yLabel: (y: number) => string;
  /** Formats an x value for the axis (`Jan 3`). */
  readonly xLabel: (x: number) => string;
}

const W = 360;
const H = 170;
const PAD = { left: 54, right: 14, top: 26, bottom: 26 };

function fmt(n: number): string {
  return String(Math.round(n * 10) / 10);
}

/** An accessible inline SVG line chart (`role="img"` with the title as its label). */
export function lineChart(chart: LineChart): string {
  const [x0, x1] = chart.x[1] > chart.x[0] ? chart.x : [chart.x[0], chart.x[0] + 1];
  const [y0, y1] = chart.y[1] > chart.y[0] ? chart.y : [chart.y[0] - 1, chart.y[0] + 1];
  const px = (x: number): number => PAD.left + ((x - x0) / (x1 - x0)) * (W - PAD.left - PAD.right);
  const py = (y: number): number =>
    PAD.top + (1 - (Math.min(Math.max(y, y0), y1) - y0) / (y1 - y0)) * (H - PAD.top - PAD.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(chart.title)}" xmlns="http://www.w3.org/2000/svg">`,
  );
  parts.push(`<text class="chart-title" x="${PAD.left}" y="15">${escapeXml(chart.title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = y0 + ((y1 - y0) * i) / 4;
    parts.push(
      `<line class="grid" x1="${PAD.left}" x2="${W - PAD.right}" y1="${fmt(py(y))}" y2="${fmt(py(y))}"/>`,
      `<text class="axis" x="${PAD.left - 6}" y="${fmt(py(y) + 3)}" text-anchor="end">${escapeXml(chart.yLabel(y))}</text>`,
    );
  }
  for (const [i, anchor] of [
    [0, 'start'],
    [0.5, 'middle'],
    [1, 'end'],
  ] as const) {
    const x = x0 + (x1 - x0) * i;
    parts.push(
      `<text class="axis" x="${fmt(px(x))}" y="${H - 8}" text-anchor="${anchor}">${escapeXml(chart.xLabel(x))}</text>`,
    );
  }
  for (const g of chart.guides) {
    parts.push(
      `<line class="${escapeXml(g.className)}" x1="${fmt(px(g.from[0]))}" y1="${fmt(py(g.from[1]))}" x2="${fmt(px(g.to[0]))}" y2="${fmt(py(g.to[1]))}"/>`,
      `<text class="guide-label" x="${W - PAD.right}" y="${fmt(py(g.to[1]) - 4)}" text-anchor="end">${escapeXml(g.label)}</text>`,
    );
  }
  for (const s of chart.series) {
    const runs: string[][] = [[]];
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y)) {
        if (runs.at(-1)!.length > 0) runs.push([]);
        continue;
      }
      runs.at(-1)!.push(`${fmt(px(x))},${fmt(py(y))}`);
    }
    for (const run of runs.filter((r) => r.length > 0)) {
      parts.push(`<polyline class="${escapeXml(s.className)}" points="${run.join(' ')}"/>`);
      if (run.length === 1) {
        const [cx, cy] = run[0]!.split(',');
        parts.push(`<circle class="${escapeXml(s.className)}" cx="${cx}" cy="${cy}" r="2.5"/>`);
      }
    }
  }
  parts.push('</svg>');
  return parts.join('');
}
