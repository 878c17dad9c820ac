import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { KEYS } from './service.js';

/** The two request classes the proof offers: checkout is `critical`, catalog reads are `sheddable`. */
export type RequestClass = 'critical' | 'sheddable';

/** What one load run saw for one request class. */
export interface ClassResult {
  readonly sent: number;
  readonly ok: number;
  /** 2xx answered within the goodput deadline. */
  readonly good: number;
  readonly shed: number;
  readonly errors: number;
  readonly statuses: Readonly<Record<string, number>>;
  /** Latencies (ms) of admitted requests: every answer that was not a 503/429 rejection. */
  readonly admittedLatencies: number[];
}

/** A load run's figures, per class and together. */
export interface RunResult {
  readonly durationSec: number;
  readonly offeredRps: number;
  readonly classes: Readonly<Record<RequestClass, ClassResult>>;
  readonly goodputRps: number;
  readonly p50: number;
  readonly p99: number;
}

/** Options for {@link runLoad}. */
export interface LoadOptions {
  readonly url: string;
  readonly durationSec: number;
  /** Total requests per second to offer (open loop, up to `connections` outstanding); undefined = closed loop. */
  readonly rate?: number;
  readonly connections: number;
  /** Share of requests that are checkouts (critical). @default 0.3 */
  readonly criticalShare?: number;
  /** A 2xx slower than this does not count as goodput. @default 1000 */
  readonly deadlineMs?: number;
}

/** The p-th percentile (0..100) of `values` (nearest rank); NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

function tracker(deadlineMs: number) {
  const statuses: Record<string, number> = {};
  const admittedLatencies: number[] = [];
  let sent = 0;
  let ok = 0;
  let good = 0;
  let shed = 0;
  let errors = 0;
  return {
    response(status: number, ms: number) {
      sent++;
      statuses[status] = (statuses[status] ?? 0) + 1;
      if (status === 503 || status === 429) {
        shed++;
        return;
      }
      admittedLatencies.push(ms);
      if (status >= 200 && status < 300) {
        ok++;
        if (ms <= deadlineMs) good++;
      }
    },
    error() {
      sent++;
      errors++;
      statuses.error = (statuses.error ?? 0) + 1;
    },
    result(): ClassResult {
      return { sent, ok, good, shed, errors, statuses, admittedLatencies };
    },
  };
}

function instance(
  opts: LoadOptions,
  cls: RequestClass,
  share: number,
  t: ReturnType<typeof tracker>,
): Promise<unknown> {
  const connections = Math.max(1, Math.round(opts.connections * share));
  const common = {
    url: opts.url,
    duration: opts.durationSec,
    connections,
    timeout: 5,
    ...(opts.rate !== undefined ? { overallRate: Math.max(1, Math.round(opts.rate * share)) } : {}),
  };
  const requests =
    cls === 'critical'
      ? [
          {
            method: 'POST' as const,
            path: '/api/v1/orders',
            headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json' },
            body: JSON.stringify({ items: [{ productId: 'sku-filter', quantity: 1 }] }),
            setupRequest: (request: autocannon.Request) => ({
              ...request,
              headers: { ...request.headers, 'idempotency-key': randomUUID() },
            }),
          },
        ]
      : [
          { method: 'GET' as const, path: '/api/v1/products', headers: { authorization: `Bearer ${KEYS.globex}` } },
          { method: 'GET' as const, path: '/api/v1/products/sku-mug', headers: { authorization: `Bearer ${KEYS.acme}` } },
        ];
  return new Promise((resolve, reject) => {
    const run = autocannon({ ...common, requests }, (error: Error | null, result) => (error ? reject(error) : resolve(result)));
    run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => t.response(status, ms));
    run.on('reqError', () => t.error());
  });
}

/**
 * Offers a mix of checkouts (critical) and catalog reads (sheddable) with autocannon, recording every answer:
 * status, and the latency of each admitted request. With `rate`, the load is open loop up to `connections`
 * outstanding requests; without, each connection sends as fast as it is answered (closed loop).
 */
export async function runLoad(opts: LoadOptions): Promise<RunResult> {
  const share = opts.criticalShare ?? 0.3;
  const deadlineMs = opts.deadlineMs ?? 1000;
  const critical = tracker(deadlineMs);
  const sheddable = tracker(deadlineMs);
  const started = performance.now();
  await Promise.all([
    instance(opts, 'critical', share, critical),
    instance(opts, 'sheddable', 1 - share, sheddable),
  ]);
  const durationSec = (performance.now() - started) / 1000;
  const classes = { critical: critical.result(), sheddable: sheddable.result() };
  const admitted = [...classes.critical.admittedLatencies, ...classes.sheddable.admittedLatencies];
  return {
    durationSec,
    offeredRps: opts.rate ?? (classes.critical.sent + classes.sheddable.sent) / durationSec,
    classes,
    goodputRps: (classes.critical.good + classes.sheddable.good) / durationSec,
    p50: percentile(admitted, 50),
    p99: percentile(admitted, 99),
  };
}
