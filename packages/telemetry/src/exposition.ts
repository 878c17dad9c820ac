import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Registry, RegistryContentType } from 'prom-client';
import { MetricsRegistry } from './metrics-registry.js';

/** The two exposition formats `/metrics` can answer in. */
export type ExpositionFormat = 'prometheus' | 'openmetrics';

/** Content type of the Prometheus text format 0.0.4. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
/** Content type of OpenMetrics 1.0.0 text. */
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

/** Options for {@link renderMetrics}. */
export interface RenderOptions {
  /**
   * Longest stretch (milliseconds) the renderer works before yielding to the event loop with `setImmediate`,
   * so a large scrape interleaves with request handling instead of blocking it. Checked between metric families.
   * @default 5
   * @example
   * ```ts
   * await renderMetrics(metrics, 'prometheus', { sliceMs: 2 });
   * ```
   */
  readonly sliceMs?: number;
}

interface Exemplar {
  labelSet: Record<string, string | number>;
  value: number;
  timestamp?: number;
}
interface Sample {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}
interface Family {
  name: string;
  help: string;
  type: string;
  values: Sample[];
}
interface CollectableMetric {
  get(): Promise<Family> | Family;
}

/**
 * Renders every metric of `source` in the Prometheus text format or OpenMetrics. The registry is never mutated
 * (concurrent scrapes in both formats are safe), exemplars are written only in OpenMetrics, and the renderer
 * collects one metric family at a time, yielding to the event loop whenever it has worked for `sliceMs`.
 *
 * @example
 * ```ts
 * import { createMetricsRegistry, renderMetrics } from '@ballast/telemetry';
 * const text = await renderMetrics(createMetricsRegistry(), 'openmetrics'); // ends with "# EOF\n"
 * ```
 */
export async function renderMetrics(
  source: MetricsRegistry | Registry<RegistryContentType>,
  format: ExpositionFormat,
  options: RenderOptions = {},
): Promise<string> {
  const sliceMs = options.sliceMs ?? 5;
  const open = format === 'openmetrics';
  const registry = source instanceof MetricsRegistry ? source.prom : source;
  const defaultLabels = source instanceof MetricsRegistry ? source.defaultLabels : {};
  const hasDefaults = Object.keys(defaultLabels).length > 0;
  const out: string[] = [];
  let sliceStart = performance.now();
  for (const metric of registry.getMetricsAsArray() as unknown as CollectableMetric[]) {
    const family = await metric.get();
    writeFamily(out, family, open, hasDefaults ? defaultLabels : undefined);
    if (performance.now() - sliceStart >= sliceMs) {
      await nextTurn();
      sliceStart = performance.now();
    }
  }
  if (open) out.push('# EOF');
  return out.length === 0 ? '' : `${out.join('\n')}\n`;
}

function writeFamily(
  out: string[],
  family: Family,
  open: boolean,
  defaults: Readonly<Record<string, string>> | undefined,
): void {
  const counter = family.type === 'counter';
  const familyName = open && counter ? family.name.replace(/_total$/, '') : family.name;
  out.push(`# HELP ${familyName} ${escapeHelp(family.help, open)}`, `# TYPE ${familyName} ${family.type}`);
  for (const sample of family.values) {
    const name = open && counter ? `${familyName}_total` : (sample.metricName ?? family.name);
    const labels = defaults ? { ...defaults, ...sample.labels } : sample.labels;
    let line = `${name}${formatLabels(labels)} ${formatValue(sample.value)}`;
    const exemplar = sample.exemplar;
    if (open && exemplar && Object.keys(exemplar.labelSet).length > 0) {
      line += ` # ${formatLabels(exemplar.labelSet)} ${formatValue(exemplar.value)}`;
      if (exemplar.timestamp !== undefined) line += ` ${formatValue(exemplar.timestamp)}`;
    }
    out.push(line);
  }
}

function formatLabels(labels: Readonly<Record<string, string | number>>): string {
  let text = '';
  for (const key in labels) {
    const value = labels[key];
    if (value === undefined) continue;
    text += `${text ? ',' : ''}${key}="${escapeLabel(String(value))}"`;
  }
  return text ? `{${text}}` : '';
}

/**
 * Formats a sample value: `+Inf`, `-Inf`, `NaN` or the shortest decimal form.
 *
 * @example
 * ```ts
 * formatValue(Infinity); // '+Inf'
 * ```
 */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

function escapeLabel(value: string): string {
  return /[\\"\n]/.test(value)
    ? value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
    : value;
}

function escapeHelp(help: string, open: boolean): string {
  let text = help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  if (open) text = text.replace(/"/g, '\\"');
  return text;
}

/**
 * Picks the exposition format for an `Accept` header: OpenMetrics when the client lists
 * `application/openmetrics-text` with a non-zero quality at least as high as the text format's, else Prometheus text.
 *
 * @example
 * ```ts
 * import { negotiateFormat } from '@ballast/telemetry';
 * negotiateFormat('application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5'); // 'openmetrics'
 * ```
 */
export function negotiateFormat(accept: string | undefined): ExpositionFormat {
  if (!accept || !accept.includes('application/openmetrics-text')) return 'prometheus';
  let openQ = 0;
  let textQ = 0;
  for (const part of accept.split(',')) {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    let q = 1;
    for (const param of params) {
      const [k, v] = param.split('=');
      if (k?.trim() === 'q' && v !== undefined) q = Number(v);
    }
    if (!Number.isFinite(q)) q = 0;
    const mediaType = type.toLowerCase();
    if (mediaType === 'application/openmetrics-text') openQ = Math.max(openQ, q);
    else if (mediaType === 'text/plain' || mediaType === '*/*' || mediaType === 'text/*')
      textQ = Math.max(textQ, q);
  }
  return openQ > 0 && openQ >= textQ ? 'openmetrics' : 'prometheus';
}
