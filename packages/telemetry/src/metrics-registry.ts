import { type Subscription, reportError } from '@ballast/core';
import { Counter, Gauge, type Metric, type OpenMetricsContentType, Registry } from 'prom-client';
import { BallastHistogram } from './histogram.js';
import { type MetricSpec, requireCatalogMetric } from './catalog.js';
import { type CardinalityOptions, CardinalityGuard } from './cardinality-guard.js';

/** Options for {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /**
   * Caps on distinct label values (see {@link CardinalityGuard}).
   * @default { limit: 100 }
   * @example
   * ```ts
   * createMetricsRegistry({ cardinality: { limit: 200, limits: { http_server_request_duration_seconds: { tenant: 50 } } } });
   * ```
   */
  readonly cardinality?: CardinalityOptions;
  /**
   * Labels added to every sample at scrape time (e.g. `{ service: 'checkout' }`).
   * @default {}
   * @example
   * ```ts
   * createMetricsRegistry({ defaultLabels: { service: 'checkout' } });
   * ```
   */
  readonly defaultLabels?: Readonly<Record<string, string>>;
}

/** Fills a collect-time gauge; called at every scrape after the gauge was reset. */
export type GaugeCollector = (gauge: Gauge) => void;

/**
 * One application's metrics: a prom-client `Registry` of its own (never the global one), the cardinality guard
 * and the catalogued instruments, created on first use so that adapters sharing a metric share one instrument and
 * nothing is registered twice. Two registries in one process never clash.
 *
 * @example
 * ```ts
 * import { createMetricsRegistry, metricsHandler } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry({ defaultLabels: { service: 'checkout' } });
 * app.get('/metrics', metricsHandler(metrics));
 * ```
 */
export class MetricsRegistry {
  /** The prom-client registry holding every metric of this registry. */
  readonly prom: Registry<OpenMetricsContentType>;
  /** The cardinality guard every label value with unbounded input goes through. */
  readonly guard: CardinalityGuard;
  /** Labels added to every sample at scrape time. */
  readonly defaultLabels: Readonly<Record<string, string>>;
  readonly #collectors = new Map<string, Set<GaugeCollector>>();

  constructor(options: MetricsRegistryOptions = {}) {
    // OpenMetrics content type so that prom-client's own `metrics()` writes the exemplars too. Ballast renders both
    // formats itself (see renderMetrics), so this does not decide what a scrape receives.
    this.prom = new Registry<OpenMetricsContentType>();
    this.prom.setContentType(Registry.OPENMETRICS_CONTENT_TYPE);
    this.defaultLabels = { ...(options.defaultLabels ?? {}) };
    this.guard = new CardinalityGuard(options.cardinality, (metric, label) => {
      this.counter('ballast_telemetry_label_overflow_total').inc({ metric, label });
    });
  }

  /** Passes `value` of `label` on `metric` through the cardinality guard. */
  label(metric: string, label: string, value: string): string {
    return this.guard.value(metric, label, value);
  }

  /** The catalogued counter `name`, created on first use. */
  counter(name: string): Counter {
    const existing = this.prom.getSingleMetric(name);
    if (existing) return existing as Counter;
    const spec = this.#spec(name, 'counter');
    return new Counter({ name, help: spec.help, labelNames: labelNames(spec), registers: [this.prom] });
  }

  /** The catalogued gauge `name`, created on first use. */
  gauge(name: string): Gauge {
    const existing = this.prom.getSingleMetric(name);
    if (existing) return existing as Gauge;
    const spec = this.#spec(name, 'gauge');
    return new Gauge({ name, help: spec.help, labelNames: labelNames(spec), registers: [this.prom] });
  }

  /**
   * The catalogued histogram `name`, created on first use: a {@link BallastHistogram} (observations cost a map
   * lookup and a bucket scan; buckets keep the latest exemplar given to `observe`).
   */
  histogram(name: string): BallastHistogram {
    const existing = this.prom.getSingleMetric(name);
    if (existing) return existing as unknown as BallastHistogram;
    const spec = this.#spec(name, 'histogram');
    const histogram = new BallastHistogram(name, spec.help, labelNames(spec), spec.buckets ?? []);
    this.prom.registerMetric(histogram as unknown as Metric);
    return histogram;
  }

  /**
   * Registers `collect` to fill gauge `name` at every scrape (the gauge is reset first, so series of sources
   * that went away disappear). Collectors must be cheap: they run on the event loop during a scrape. A collector
   * that throws is reported through `reportError` and skipped. Dispose the subscription to stop collecting.
   */
  onCollect(name: string, collect: GaugeCollector): Subscription {
    let set = this.#collectors.get(name);
    if (!set) {
      const collectors = new Set<GaugeCollector>();
      set = collectors;
      this.#collectors.set(name, collectors);
      const spec = this.#spec(name, 'gauge');
      new Gauge({
        name,
        help: spec.help,
        labelNames: labelNames(spec),
        registers: [this.prom],
        collect() {
          this.reset();
          for (const fn of collectors) {
            try {
              fn(this);
            } catch (error) {
              reportError(error, `collecting ${name}`);
            }
          }
        },
      });
    }
    const collectors = set;
    collectors.add(collect);
    return { dispose: () => void collectors.delete(collect) };
  }

  #spec(name: string, type: MetricSpec['type']): MetricSpec {
    const spec = requireCatalogMetric(name);
    if (spec.type !== type) throw new Error(`Metric ${name} is a ${spec.type}, not a ${type}`);
    if (this.prom.getSingleMetric(name)) throw new Error(`Metric ${name} is already registered`);
    return spec;
  }
}

function labelNames(spec: MetricSpec): string[] {
  return spec.labels.map((label) => label.name);
}

/**
 * Creates a {@link MetricsRegistry}: an explicit registry for one application. Nothing in Ballast registers on
 * prom-client's global registry.
 *
 * @example
 * ```ts
 * import { createMetricsRegistry } from '@ballast/telemetry';
 * const metrics = createMetricsRegistry({ cardinality: { limit: 100 } });
 * ```
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  return new MetricsRegistry(options);
}
