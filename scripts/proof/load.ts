import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { Pool } from 'undici';
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
  /** Share of requests that are checkouts (critical). @default 1/3 */
  readonly criticalShare?: number;
  /** A 2xx slower than this does not count as goodput. @default 1000 */
  readonly deadlineMs?: number;
  /** The API key checkouts are sent with (the tenant they are for). @default the acme key */
  readonly checkoutKey?: string;
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

/** Checkouts sent so far by this process: each one's body is the next of {@link checkoutBody}'s sequence. */
let checkoutsSent = 0;

const CHECKOUT = {
  method: 'POST' as const,
  path: '/api/v1/orders',
  headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json' },
  // The closed loop sends the same checkouts as the open loop (one to three lines over the catalog), so what it
  // measures alone is the checkout the steps offer.
  setupRequest: (request: autocannon.Request) => ({
    ...request,
    headers: { ...request.headers, 'idempotency-key': randomUUID() },
    body: checkoutBody(checkoutsSent++),
  }),
};
const PRODUCTS = ['sku-espresso', 'sku-grinder', 'sku-kettle', 'sku-filter', 'sku-mug', 'sku-scale'];

/**
 * The `n`th checkout: one to three lines in turn, spread over the catalog, as shoppers do (not one hot stock row).
 * `n` counts checkouts, not requests: a request index would give every checkout of a one-in-three mix the same
 * number of lines.
 */
function checkoutBody(n: number): string {
  const lines = 1 + (n % 3);
  const items = Array.from({ length: lines }, (_, i) => ({
    productId: PRODUCTS[(n * 7 + i) % PRODUCTS.length]!,
    quantity: 1 + ((n + i) % 2),
  }));
  return JSON.stringify({ items });
}

const READS = [
  { method: 'GET' as const, path: '/api/v1/products', headers: { authorization: `Bearer ${KEYS.globex}` } },
  { method: 'GET' as const, path: '/api/v1/products/sku-mug', headers: { authorization: `Bearer ${KEYS.acme}` } },
];

function instance(
  opts: LoadOptions,
  requests: autocannon.Request[],
  connections: number,
  rate: number | undefined,
  t: ReturnType<typeof tracker>,
): Promise<unknown> {
  const common = {
    url: opts.url,
    duration: opts.durationSec,
    connections: Math.max(1, connections),
    timeout: 5,
    ...(rate !== undefined ? { overallRate: Math.max(1, Math.round(rate)) } : {}),
  };
  return new Promise((resolve, reject) => {
    const run = autocannon({ ...common, requests }, (error: Error | null, result) =>
      error ? reject(error) : resolve(result),
    );
    run.on('response', (_client: unknown, status: number, _bytes: number, ms: number) => t.response(status, ms));
    run.on('reqError', () => t.error());
  });
}

/**
 * Open loop: requests leave on a schedule (evenly spaced, every third one a checkout), whatever the service does,
 * over an undici pool of up to `connections` sockets. Requests the generator cannot send because `connections`
 * are all busy are counted as errors of their class (the service was not keeping up). Each answer is recorded:
 * status, and the latency of every admitted request.
 */
export async function runLoad(opts: LoadOptions): Promise<RunResult> {
  const rate = opts.rate;
  if (rate === undefined) throw new Error('runLoad needs a rate (use runClosedLoop for closed-loop load)');
  const share = opts.criticalShare ?? 1 / 3;
  const deadlineMs = opts.deadlineMs ?? 1000;
  const critical = tracker(deadlineMs);
  const sheddable = tracker(deadlineMs);
  const pool = new Pool(opts.url, { connections: opts.connections, pipelining: 1, headersTimeout: 5000, bodyTimeout: 5000 });
  let inFlight = 0;
  let sent = 0;
  const pending = new Set<Promise<void>>();
  const fire = (index: number) => {
    const isCritical = Math.floor((index + 1) * share) > Math.floor(index * share);
    const t = isCritical ? critical : sheddable;
    if (inFlight >= opts.connections) {
      t.error();
      return;
    }
    inFlight++;
    const read = READS[index % READS.length]!;
    const started = performance.now();
    const p = pool
      .request(
        isCritical
          ? {
              method: 'POST',
              path: CHECKOUT.path,
              headers: {
                ...CHECKOUT.headers,
                ...(opts.checkoutKey === undefined ? {} : { authorization: `Bearer ${opts.checkoutKey}` }),
                'idempotency-key': randomUUID(),
              },
              body: checkoutBody(checkoutsSent++),
            }
          : { method: 'GET', path: read.path, headers: read.headers },
      )
      .then(
        async (res) => {
          await res.body.dump();
          t.response(res.statusCode, performance.now() - started);
        },
        () => t.error(),
      )
      .finally(() => {
        inFlight--;
        pending.delete(p);
      });
    pending.add(p);
  };
  const started = performance.now();
  const endAt = started + opts.durationSec * 1000;
  while (performance.now() < endAt) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    while (sent < due) fire(sent++);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.allSettled([...pending]);
  await pool.close();
  const durationSec = opts.durationSec;
  const classes = { critical: critical.result(), sheddable: sheddable.result() };
  const admitted = [...classes.critical.admittedLatencies, ...classes.sheddable.admittedLatencies];
  return {
    durationSec,
    offeredRps: rate,
    classes,
    goodputRps: (classes.critical.good + classes.sheddable.good) / durationSec,
    p50: percentile(admitted, 50),
    p99: percentile(admitted, 99),
  };
}

/** What a closed loop sends: the proof's mix, or one class alone (to measure what each costs). */
export type ClosedLoopMix = 'mix' | 'checkouts' | 'reads';

/**
 * Closed loop: every connection sends one checkout then two catalog reads (or only checkouts, or only reads), over
 * and over, each as soon as the previous one is answered, so the mix is one critical request in three whatever the
 * latencies. Used to find capacity: goodput counts 2xx answered within the deadline.
 */
export async function runClosedLoop(
  url: string,
  connections: number,
  durationSec: number,
  deadlineMs = 1000,
  mix: ClosedLoopMix = 'mix',
) {
  const t = tracker(deadlineMs);
  const started = performance.now();
  const requests = mix === 'mix' ? [CHECKOUT, ...READS] : mix === 'checkouts' ? [CHECKOUT] : READS;
  await instance({ url, durationSec, connections }, requests, connections, undefined, t);
  const elapsed = (performance.now() - started) / 1000;
  const r = t.result();
  return { goodputRps: r.good / elapsed, ok: r.ok, p99: percentile(r.admittedLatencies, 99), statuses: r.statuses };
}
