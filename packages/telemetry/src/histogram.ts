/**
 * A histogram built for the request path. prom-client's histogram validates label names, builds a closure, sorts
 * and hashes the labels and looks buckets up by float-to-string property keys on every observation; this one
 * keys series by the label values in a fixed order, keeps bucket counts in a typed array and finds the bucket by
 * a linear scan of 14 bounds. It registers on a prom-client `Registry` and reports values in prom-client's shape,
 * so the registry, the renderer and prom-client's own `metrics()` all read it.
 */

const ABSENT = '\u0000';

/** Exemplar labels attached to an observation (e.g. `{ trace_id, span_id }`). */
export type ExemplarLabels = Readonly<Record<string, string>>;

interface Exemplar {
  labelSet: ExemplarLabels;
  value: number;
  timestamp: number;
}

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  readonly counts: Float64Array;
  sum: number;
  count: number;
  exemplars: (Exemplar | undefined)[] | undefined;
}

/** One sample as prom-client's registry and Ballast's renderer read it. */
interface SampleValue {
  labels: Record<string, string | number>;
  value: number;
  metricName: string;
  exemplar?: Exemplar;
}

/**
 * A labelled histogram with optional exemplars; create it with `MetricsRegistry.histogram(name)`.
 *
 * @example
 * ```ts
 * const h = metrics.histogram('http_client_request_duration_seconds');
 * h.observe({ http_request_method: 'GET', server_address: 'inventory' }, 0.042, { trace_id, span_id });
 * ```
 */
export class BallastHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  readonly #bounds: Float64Array;
  /** Series indexed by label value, one map level per label name (no key string is built per observation). */
  readonly #index = new Map<string, unknown>();
  readonly #series: Series[] = [];

  constructor(name: string, help: string, labelNames: readonly string[], buckets: readonly number[]) {
    this.name = name;
    this.help = help;
    this.labelNames = labelNames;
    this.#bounds = Float64Array.from([...buckets].sort((a, b) => a - b));
  }

  /**
   * Records `value` for the series of `labels` (names outside `labelNames` are ignored; missing ones are absent
   * from the series). With `exemplar`, the bucket the value falls in keeps it as its latest exemplar.
   */
  observe(
    labels: Readonly<Record<string, string | undefined>>,
    value: number,
    exemplar?: ExemplarLabels,
  ): void {
    if (!Number.isFinite(value)) return;
    const names = this.labelNames;
    const last = names.length - 1;
    let level = this.#index;
    let series = last < 0 ? (this.#index.get(ABSENT) as Series | undefined) : undefined;
    for (let i = 0; i <= last; i++) {
      const v = labels[names[i]!] ?? ABSENT;
      const next = level.get(v);
      if (i < last) {
        if (next === undefined) {
          const created = new Map<string, unknown>();
          level.set(v, created);
          level = created;
        } else level = next as Map<string, unknown>;
      } else series = next as Series | undefined;
    }
    if (series === undefined) {
      series = this.#create(labels);
      if (last >= 0) level.set(labels[names[last]!] ?? ABSENT, series);
    }
    const bounds = this.#bounds;
    let bucket = 0;
    while (bucket < bounds.length && value > bounds[bucket]!) bucket++;
    series.counts[bucket]!++;
    series.sum += value;
    series.count++;
    if (exemplar !== undefined) {
      (series.exemplars ??= [])[bucket] = { labelSet: exemplar, value, timestamp: Date.now() / 1000 };
    }
  }

  #create(labels: Readonly<Record<string, string | undefined>>): Series {
    const own: Record<string, string> = {};
    for (const name of this.labelNames) {
      const v = labels[name];
      if (v !== undefined) own[name] = v;
    }
    const series: Series = {
      labels: own,
      counts: new Float64Array(this.#bounds.length + 1),
      sum: 0,
      count: 0,
      exemplars: undefined,
    };
    this.#series.push(series);
    if (this.labelNames.length === 0) this.#index.set(ABSENT, series);
    return series;
  }

  /** Forgets every series. */
  reset(): void {
    this.#index.clear();
    this.#series.length = 0;
  }

  /** Number of series (label combinations) held. */
  get seriesCount(): number {
    return this.#series.length;
  }

  /** The current values in prom-client's `MetricObject` shape (cumulative buckets, then sum and count). */
  get(): { name: string; help: string; type: 'histogram'; values: SampleValue[]; aggregator: 'sum' } {
    const values: SampleValue[] = [];
    const bucketName = `${this.name}_bucket`;
    const bounds = this.#bounds;
    for (const series of this.#series) {
      let cumulative = 0;
      for (let i = 0; i <= bounds.length; i++) {
        cumulative += series.counts[i]!;
        const sample: SampleValue = {
          labels: { ...series.labels, le: i < bounds.length ? bounds[i]! : '+Inf' },
          value: cumulative,
          metricName: bucketName,
        };
        const exemplar = series.exemplars?.[i];
        if (exemplar) sample.exemplar = exemplar;
        values.push(sample);
      }
      values.push({ labels: { ...series.labels }, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...series.labels }, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: 'histogram', values, aggregator: 'sum' };
  }
}
