import type { Request, RequestHandler } from 'express';
import { Redis } from 'ioredis';
import { reportError, type Clock } from '@ballast/core';
import {
  type AdaptiveThrottle,
  BulkheadPolicy,
  ChaosPolicy,
  CircuitBreakerPolicy,
  ConcurrencyLimiter,
  ConsecutiveBreaker,
  ExponentialBackoff,
  MemoryRateLimitStore,
  RateLimiter,
  RedisRateLimitStore,
  RetryBudget,
  RetryPolicy,
  TimeoutPolicy,
  TtlCache,
  EventLoopPressure,
  Gradient2Limit,
  SaturationSignal,
  VegasLimit,
  type AdmissionSignal,
  pipeline,
  rateLimitMiddleware,
  type Policy,
  type RateLimitRule,
} from '@ballast/resilience';
import type { RetailFlowConfig } from '../config.js';
import { paymentThrottle as createPaymentThrottle } from '../payments/throttle.js';
import { EventLoopBurn } from './eventloop-chaos.js';
import { baselineGate } from './ingress-baselines.js';
import type { PlanId } from '../billing/plans.js';
import type { Plan } from '../data/index.js';
import { contextOf } from '../http/context.js';
import { HttpProblem, PROBLEM_BASE } from '../http/problem.js';
import { RoutePriorities } from '../http/route-table.js';
import type { ChaosControl, ChaosFault, ChaosTarget, RequestPriority, ServicePolicies } from '../policies.js';

/** RetailFlow's policies, plus what telemetry and tests read from them. */
export interface RetailFlowPolicies extends ServicePolicies {
  readonly paymentBreaker: CircuitBreakerPolicy;
  readonly paymentRetryBudget: RetryBudget;
  /** Client-side throttling of payment attempts; undefined when `PAYMENT_THROTTLE_K` is 0. */
  readonly paymentThrottle: AdaptiveThrottle | undefined;
  readonly inventoryBulkhead: BulkheadPolicy;
  readonly ingressLimiter: ConcurrencyLimiter;
  readonly tenantLimiter: RateLimiter;
  /** Runs `work` through the storage chaos switch (used by the store wrapper). */
  readonly storageChaos: <T>(work: () => Promise<T>) => Promise<T>;
  /** Runs `work` through the relay chaos switch (used by the outbox relay's store wrapper). */
  readonly relayChaos: <T>(work: () => Promise<T>) => Promise<T>;
  /**
   * The policies whose events telemetry subscribes to as plain policies (the bulkhead and the two limiters are
   * observed with their USE gauges instead). Chaos latency policies created later arrive through `onPolicy`.
   */
  readonly observable: readonly Policy[];
  /** Subscribes to policies created later (chaos policies are rebuilt when `/admin/chaos` changes them). */
  onPolicy(listener: (policy: Policy) => void): void;
  /** Pings Redis, when the rate limits live there (for `/readyz`). */
  readonly redisHealth: (() => Promise<void>) | undefined;
}

/** Per-plan limits: requests per minute (GCRA: a full minute's worth may come at once, then they refill evenly). */
export function planRule(plan: Plan | PlanId, config: RetailFlowConfig): RateLimitRule {
  return {
    limit:
      plan === 'enterprise'
        ? config.enterpriseRequestsPerMinute
        : plan === 'pro'
          ? config.proRequestsPerMinute
          : config.freeRequestsPerMinute,
    periodMs: 60_000,
  };
}

const OFF: ChaosFault = { enabled: false, latencyMs: 0, errorRate: 0 };

/**
 * One chaos switch: a latency policy and an error policy from `@ballast/resilience`, rebuilt when the settings
 * change (a `ChaosPolicy`'s fault is fixed at construction; its rate and `enabled` are not).
 */
class ChaosSwitch {
  fault: ChaosFault = OFF;
  latency: ChaosPolicy | undefined;
  readonly error: ChaosPolicy;
  readonly #target: ChaosTarget;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #created: (policy: Policy) => void;

  constructor(target: ChaosTarget, clock: Clock, random: () => number, created: (policy: Policy) => void) {
    this.#target = target;
    this.#clock = clock;
    this.#random = random;
    this.#created = created;
    this.error = new ChaosPolicy({
      name: `${target}-chaos-error`,
      fault: { kind: 'error' },
      rate: 0,
      enabled: false,
      clock,
      random,
    });
  }

  set(fault: ChaosFault): void {
    this.fault = { ...fault };
    this.error.enabled = fault.enabled && fault.errorRate > 0;
    this.error.rate = fault.errorRate;
    if (fault.enabled && fault.latencyMs > 0) {
      if (
        !this.latency ||
        this.latency.fault.kind !== 'latency' ||
        this.latency.fault.ms !== fault.latencyMs
      ) {
        this.latency = new ChaosPolicy({
          name: `${this.#target}-chaos-latency`,
          fault: { kind: 'latency', ms: fault.latencyMs },
          rate: 1,
          enabled: true,
          clock: this.#clock,
          random: this.#random,
        });
        this.#created(this.latency);
      }
    } else {
      this.latency = undefined;
    }
  }

  run<T>(work: () => Promise<T>): Promise<T> {
    if (!this.fault.enabled) return work();
    const latency = this.latency;
    return this.error.execute<T>(() => (latency ? latency.execute(work) : work()));
  }
}

/** The problem a tenant's checkout beyond its share is answered with (by {@link TenantShare} or at the door). */
const TOO_MANY_CHECKOUTS = {
  slug: 'too-many-concurrent-checkouts',
  title: 'Too many concurrent checkouts',
  detail: 'This tenant has too many checkouts in progress; retry shortly',
} as const;

/**
 * Counts each tenant's calls in flight and refuses a call beyond `cap` with a 429 problem (`Retry-After: 1`).
 * Entries are dropped when a tenant has nothing in flight, so memory follows the tenants active right now.
 */
export class TenantShare {
  readonly #cap: number;
  readonly #inFlight = new Map<string, number>();

  constructor(cap: number) {
    this.#cap = cap;
  }

  /** The most calls one tenant may have in flight. */
  get cap(): number {
    return this.#cap;
  }

  async run<T>(tenantId: string, work: () => Promise<T>): Promise<T> {
    const held = this.#inFlight.get(tenantId) ?? 0;
    if (held >= this.#cap) {
      throw new HttpProblem(
        429,
        TOO_MANY_CHECKOUTS.slug,
        TOO_MANY_CHECKOUTS.title,
        TOO_MANY_CHECKOUTS.detail,
        {
          headers: { 'Retry-After': '1' },
        },
      );
    }
    this.#inFlight.set(tenantId, held + 1);
    try {
      return await work();
    } finally {
      const left = (this.#inFlight.get(tenantId) ?? 1) - 1;
      if (left <= 0) this.#inFlight.delete(tenantId);
      else this.#inFlight.set(tenantId, left);
    }
  }
}

/** Admits a call only when every signal does. */
function allAdmit(...signals: readonly AdmissionSignal[]): AdmissionSignal {
  return { admits: (priority) => signals.every((signal) => signal.admits(priority)) };
}

/** The media type of RFC 9457 problem details, for the refusals of the shedding and rate-limit middleware. */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** An RFC 9457 problem body with RetailFlow's problem type base. */
export function problemBody(
  status: number,
  slug: string,
  title: string,
  detail: string,
  extra: Record<string, unknown>,
) {
  return { type: PROBLEM_BASE + slug, title, status, detail, ...extra };
}

/**
 * Builds RetailFlow's resilience policies from `@ballast/resilience`:
 * - ingress: an adaptive {@link ConcurrencyLimiter} (Gradient2), applied by the front door before express, with
 *   checkout `critical`, catalog reads `sheddable`, the rest `default`;
 * - per tenant: a GCRA {@link RateLimiter} keyed by tenant with the plan's rule, in memory or Redis (`REDIS_URL`),
 *   failing open when Redis is unreachable (a limiter outage must not become a checkout outage);
 * - catalog: a {@link TtlCache} (single-flight misses, 5 s TTL, stale for 5 min when the store fails);
 * - inventory: a {@link BulkheadPolicy} (4 in flight and 2 queued for at most 20 ms by default), whose
 *   saturation sheds catalog reads first at ingress ({@link SaturationSignal}); ingress admits checkouts only up to
 *   twice its places (`INGRESS_CRITICAL_LIMIT`), the rest wait at the door, and reads are shed while they do;
 * - the event loop, with `EVENT_LOOP_SHEDDING` (off by default): once it has stayed saturated for about 400 ms while
 *   RetailFlow itself used the CPU, ingress sheds by its pressure too, before authentication: reads, then other
 *   calls, then checkouts while its delay exceeds 150 ms; never before the process has admitted its first requests;
 * - payments: retry (3 attempts, exponential backoff with full jitter, a shared {@link RetryBudget}) → circuit
 *   breaker (5 consecutive failures, half-open after 10 s) → per-attempt timeout → client-side throttle of each
 *   attempt (the SRE book's adaptive throttling, `PAYMENT_THROTTLE_K`), under the request's deadline;
 * - chaos switches on payments and storage, off until `/admin/chaos` turns them on.
 */
export async function createPolicies(options: {
  readonly config: RetailFlowConfig;
  readonly clock: Clock;
  readonly random: () => number;
  /** Prefix of Redis keys. */
  readonly namespace: string;
}): Promise<RetailFlowPolicies> {
  const { config, clock, random } = options;
  const listeners: ((policy: Policy) => void)[] = [];
  const created = (policy: Policy) => {
    for (const listener of listeners) listener(policy);
  };

  const inventoryBulkhead = new BulkheadPolicy({
    name: 'inventory-bulkhead',
    limit: config.inventoryConcurrency,
    maxQueued: config.inventoryQueue,
    queueTimeoutMs: config.inventoryQueueTimeoutMs,
    clock,
  });
  // One tenant may hold at most its share of the bulkhead (running + queued): a burst of one tenant's checkouts
  // then waits or is refused with a 429 of its own, and never fills the slots the other tenants' checkouts need.
  // A share of 1 lets one tenant hold everything: no cap beyond the bulkhead's own (a service with one tenant, or
  // a benchmark of shedding rather than of fairness).
  const tenantShare =
    config.tenantInventoryShare >= 1
      ? undefined
      : new TenantShare(
          Math.max(
            1,
            Math.floor(config.tenantInventoryShare * (config.inventoryConcurrency + config.inventoryQueue)),
          ),
        );
  // The event loop, sampled on the real clock whatever clock the rest of the service runs on: it tells whether
  // the process itself is out of CPU (see EventLoopPressure).
  const loop =
    config.loadShedding === 'ballast'
      ? new EventLoopPressure({
          // About 400 ms of saturation before anything is shed: at the service's capacity, open-loop arrivals
          // saturate the loop for moments and nothing needs shedding; under a sustained overload, shedding by the
          // loop (before authentication) served more checkouts at 4x in one batch of alternating runs and fewer in
          // another, hence off by default.
          onset: 1,
          // Checkouts are shed by the loop only while its delay exceeds this: every await of a checkout in flight
          // waits that long behind the loop, and the 500 ms default let admitted checkouts' p99 at 4x reach seconds.
          criticalDelayMs: 150,
          // A process just started (a blue/green switch, a canary, a restart) is saturated by running unoptimized
          // code, not by load: its first requests are admitted whatever its loop does (each is screened, then
          // admitted: two decisions). Its requests' latency settles within the first few hundred.
          warmupDecisions: 2 * config.eventLoopWarmupRequests,
          // A late loop counts only while RetailFlow itself used the CPU (for the reads shed while checkouts wait,
          // below, as for this signal): instances starting beside warm ones starve them, and the warm ones then
          // refused requests they had no more of than before (docs/decisions/partitioned-admission.md).
          minCpu: config.eventLoopMinCpu,
          targetUtilization: config.eventLoopTargetUtilization,
        })
      : undefined;
  // Critical first. A checkout costs the process about as much as twenty cached catalog reads, so under overload
  // the reads take the CPU the checkouts queue for. While checkouts wait for the inventory bulkhead *and* the
  // event loop is saturated, catalog reads are shed at the front door (other API calls once half the queue is
  // taken); while the loop has CPU to spare (checkouts wait on a slow database, say), reads are still served.
  // Once the bulkhead is full, checkouts are refused at the door too, before express parses, authenticates and
  // validates what the bulkhead would refuse anyway.
  const bulkheadQueue = () =>
    inventoryBulkhead.maxQueued === 0 ? 0 : inventoryBulkhead.queued / inventoryBulkhead.maxQueued;
  // Checkouts the bulkhead would refuse (its queue full) are refused at the door, by the queue as it is now.
  const checkoutFull = new SaturationSignal({
    saturation: bulkheadQueue,
    thresholds: { sheddable: 1, default: 1 },
  });
  // Reads (and other calls) are shed by the same queue averaged over `ingressShedSmoothingMs`: at its capacity the
  // service's queue fills and empties many times a second, and reads shed through each burst were reads it could
  // serve (docs/decisions/partitioned-admission.md, "Averaged").
  const smoothing =
    config.ingressShedSmoothingMs > 0 ? { smoothingMs: config.ingressShedSmoothingMs, clock } : undefined;
  const checkoutPressure = new SaturationSignal({
    saturation: bulkheadQueue,
    shedCriticalWhenFull: false,
    ...(smoothing ? { ...smoothing, thresholds: { sheddable: 0.5, default: 0.5 } } : {}),
    ...(loop ? { onlyWhile: () => loop.underPressure } : {}),
  });
  const criticalLimit =
    config.ingressCriticalLimit > 0
      ? config.ingressCriticalLimit
      : 2 * (config.inventoryConcurrency + config.inventoryQueue);
  // Checkouts waiting at the door for the bulkhead (held at `criticalLimit`) are critical work arriving faster than
  // it completes: reads (and, as for the bulkhead's queue, other API calls) are shed while any wait and the loop is
  // saturated, so the CPU goes to the checkouts. Checkouts themselves are never refused by this signal: they wait.
  const door: { limiter?: ConcurrencyLimiter } = {};
  const waiting = new SaturationSignal({
    saturation: () => ((door.limiter?.queuedOf('critical') ?? 0) > 0 ? 1 : 0),
    shedCriticalWhenFull: false,
    ...(smoothing ? { ...smoothing, thresholds: { sheddable: 0.5, default: 0.5 } } : {}),
    ...(loop ? { onlyWhile: () => loop.underPressure } : {}),
  });
  const ingressLimiter = new ConcurrencyLimiter({
    name: 'ingress',
    clock,
    // The limit guards the process as a whole (it learns from handler latency); priority between checkouts and
    // reads comes from the checkout signal above, so the floor stays high enough never to cut cheap reads while
    // checkouts hold permits waiting on the bulkhead and the payment provider.
    algorithm:
      config.ingressLimitAlgorithm === 'vegas'
        ? new VegasLimit({
            initialLimit: config.ingressInitialLimit,
            minLimit: config.ingressMinLimit,
            maxLimit: Math.max(1000, config.ingressInitialLimit),
            random,
          })
        : new Gradient2Limit({
            initialLimit: config.ingressInitialLimit,
            minLimit: config.ingressMinLimit,
            maxLimit: Math.max(1000, config.ingressInitialLimit),
          }),
    // Guaranteed shares, not nested caps: checkouts keep half the limit however many reads arrive, other API
    // calls a fifth, reads the rest; what a class leaves unused the others borrow. Each tenant's share of a class
    // is an equal split among the tenants active now, so one tenant's flood borrows only what nobody else uses.
    // Checkouts are admitted only as fast as the inventory bulkhead completes them: past the cap they wait here,
    // where waiting costs nothing, rather than being parsed and validated to wait or be refused at the bulkhead.
    // A tenant's checkouts beyond its share of the bulkhead are refused here, at the door, with the 429 the checkout
    // would answer (TenantShare), for the price of a counter read: a flood of one tenant's checkouts refused by
    // express (body, validation, the checkout use case) took the CPU the other tenants' checkouts needed, and the
    // quiet tenant's checkouts then ran past their own share (docs/decisions/partitioned-admission.md).
    partitions: {
      classes: { critical: 0.5, default: 0.2, sheddable: 0.3 },
      tenants: true,
      maxInFlight: { critical: criticalLimit },
      // A tenant's checkouts arriving a few at once (each holds its place through the payment round trip) wait
      // here, briefly, for one of the tenant's own places rather than being refused by its own share.
      ...(tenantShare
        ? {
            tenantLimit: { critical: tenantShare.cap },
            tenantQueue: { critical: config.tenantCheckoutQueue },
          }
        : {}),
    },
    admission:
      loop && config.eventLoopShedding
        ? allAdmit(checkoutFull, checkoutPressure, waiting, loop)
        : allAdmit(checkoutFull, checkoutPressure, waiting),
  });
  door.limiter = ingressLimiter;
  const ingress =
    config.loadShedding === 'ballast' ? ingressLimiter : await baselineGate(config.loadShedding);
  const refusal = (_priority: RequestPriority) =>
    // Says what the client can act on (retry later), not which internal policy refused or how it classes requests.
    problemBody(503, 'overloaded', 'Service overloaded', 'The service is busy; retry later', {});

  const tenantRefusal = (_priority: RequestPriority) =>
    problemBody(429, TOO_MANY_CHECKOUTS.slug, TOO_MANY_CHECKOUTS.title, TOO_MANY_CHECKOUTS.detail, {});

  let redis: Redis | undefined;
  if (config.redisUrl !== undefined) {
    redis = new Redis(config.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
    });
    // While Redis is away the limiter fails open and says so through its events; connection errors are reported
    // once per outage, not left to ioredis's "Unhandled error event".
    let redisDown = false;
    redis.on('error', (error: unknown) => {
      if (!redisDown) reportError(error, 'retailflow: Redis connection');
      redisDown = true;
    });
    redis.on('ready', () => (redisDown = false));
    await redis.connect();
  }
  const tenantLimiter = new RateLimiter({
    name: 'tenant-rate-limit',
    rule: planRule('free', config),
    store: redis
      ? new RedisRateLimitStore({ client: redis, prefix: `${options.namespace}:ratelimit:` })
      : new MemoryRateLimitStore(),
    clock,
    onStoreError: 'open',
  });
  const tenantLimits = new Map<string, number>();
  const rateLimit = rateLimitMiddleware<Request>(tenantLimiter, {
    key: (req) => contextOf(req).tenant?.id,
    contentType: PROBLEM_CONTENT_TYPE,
    rule: (req) => {
      const tenant = contextOf(req).tenant;
      if (!tenant) return undefined;
      const override = tenantLimits.get(tenant.id);
      // The billing account's plan (an enterprise account), when the billing middleware resolved it.
      const plan = contextOf(req).billingPlan ?? tenant.plan;
      return override === undefined ? planRule(plan, config) : { limit: override, periodMs: 60_000 };
    },
    body: (req, decision) =>
      problemBody(
        429,
        'rate-limited',
        'Too many requests',
        `This API key's plan allows ${decision.limit} requests per minute`,
        { retryAfterSeconds: Math.max(1, Math.ceil(decision.retryAfterMs / 1000)) },
      ),
  }) as unknown as RequestHandler;

  const catalogCache = new TtlCache<unknown>({
    name: 'catalog-cache',
    ttlMs: 5_000,
    staleIfErrorMs: 300_000,
    maxEntries: 5_000,
    clock,
    random,
  });

  const tenantCache = new TtlCache<unknown>({
    name: 'tenant-cache',
    ttlMs: 60_000,
    staleIfErrorMs: 600_000,
    maxEntries: 10_000,
    clock,
    random,
  });

  const paymentRetryBudget = new RetryBudget({
    percentCanRetry: 0.2,
    minRetriesPerSec: 1,
    ttlMs: 10_000,
    clock,
  });
  const paymentRetry = new RetryPolicy({
    name: 'payment-retry',
    maxAttempts: 3,
    idempotent: true, // every charge carries the order's idempotency key at the provider
    backoff: new ExponentialBackoff({ baseMs: 50, maxMs: 1_000 }),
    budget: paymentRetryBudget,
    clock,
    random,
  });
  const paymentBreaker = new CircuitBreakerPolicy({
    name: 'payment-breaker',
    breaker: new ConsecutiveBreaker({ threshold: 5 }),
    halfOpenAfterMs: 10_000,
    clock,
  });
  const paymentTimeout = new TimeoutPolicy({
    name: 'payment-timeout',
    timeoutMs: config.paymentTimeoutMs,
    clock,
  });
  const paymentPipeline = pipeline(paymentRetry, paymentBreaker, paymentTimeout);
  // Innermost, around the attempt itself (and the chaos that stands in for the provider's failures): it counts what
  // reached the provider, not the open breaker's refusals; its window is shorter than the breaker's open time, so
  // the breaker's probe never meets a throttle still full of the outage's counts.
  const paymentThrottle =
    config.paymentThrottleK === 0
      ? undefined
      : createPaymentThrottle({
          k: config.paymentThrottleK,
          windowMs: config.paymentThrottleWindowMs,
          clock,
          random,
        });
  const paymentAttempt = <T>(attempt: () => Promise<T>): Promise<T> =>
    paymentThrottle ? paymentThrottle.execute(attempt) : attempt();

  const switches: Record<Exclude<ChaosTarget, 'eventloop'>, ChaosSwitch> = {
    payments: new ChaosSwitch('payments', clock, random, created),
    storage: new ChaosSwitch('storage', clock, random, created),
    relay: new ChaosSwitch('relay', clock, random, created),
  };
  const burn = new EventLoopBurn(clock);
  const chaos: ChaosControl = {
    get: () => ({
      payments: { ...switches.payments.fault },
      storage: { ...switches.storage.fault },
      relay: { ...switches.relay.fault },
      eventloop: burn.fault,
    }),
    set: (target, fault) => (target === 'eventloop' ? burn.set(fault) : switches[target].set(fault)),
  };

  return {
    ingress,
    refusal,
    ...(config.loadShedding === 'ballast' && tenantShare ? { tenantRefusal } : {}),
    rateLimit,
    tenantLookup: <T>(key: string, load: () => Promise<T>) => tenantCache.get(key, load) as Promise<T>,
    // CATALOG_CACHE=false reads the store every time: what the cache saves is measured, not assumed.
    catalog: config.catalogCache
      ? <T>(key: string, load: () => Promise<T>) => catalogCache.get(key, load) as Promise<T>
      : <T>(_key: string, load: () => Promise<T>) => load(),
    inventory: (work) => inventoryBulkhead.execute(() => work()),
    tenantCheckout: (tenantId, work) => (tenantShare ? tenantShare.run(tenantId, work) : work()),
    payment: (work, deadline) =>
      paymentPipeline.execute(
        (call) => paymentAttempt(() => switches.payments.run(() => work(call))),
        deadline ? { deadline } : undefined,
      ),
    chaos,
    breakers: new Map([[paymentBreaker.name, paymentBreaker]]),
    tenantLimits,
    routePriorities: new RoutePriorities(),
    storageChaos: (work) => switches.storage.run(work),
    relayChaos: (work) => switches.relay.run(work),
    paymentBreaker,
    paymentRetryBudget,
    paymentThrottle,
    inventoryBulkhead,
    ingressLimiter,
    tenantLimiter,
    observable: [
      tenantCache,
      catalogCache,
      paymentRetry,
      paymentBreaker,
      paymentTimeout,
      ...(paymentThrottle ? [paymentThrottle] : []),
      switches.payments.error,
      switches.storage.error,
      switches.relay.error,
    ],
    onPolicy: (listener) => listeners.push(listener),
    redisHealth: redis
      ? async () => {
          await redis.ping();
        }
      : undefined,
    close: async () => {
      burn.close();
      loop?.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}
