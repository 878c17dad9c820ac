import {
  checkFunction,
  checkNumber,
  invalidOption,
  reportError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import type { ConcurrencyLimiterGauges, Priority, RejectionReason } from '@ballast/core';
import { EventedPolicy, policyName } from '../common/EventedPolicy.js';
import { type Gate, type Step, toStep } from '../common/compose.js';
import { Gradient2Limit } from './Gradient2Limit.js';
import type { AdmissionSignal } from './EventLoopPressure.js';
import type { LimitAlgorithm } from './LimitAlgorithm.js';
import { CoDelQueue, PRIORITY_ORDER, type QueueTicket } from './CoDelQueue.js';
import { LoadShedError, type LoadShedReason } from './LoadShedError.js';

/** Share of the limit each priority class may fill (of all calls in flight), in (0, 1]. */
export type PriorityShares = Readonly<Record<Priority, number>>;

/**
 * Guaranteed shares of a {@link ConcurrencyLimiter} (partitions) instead of nested caps: each class, and each
 * tenant, has a reservation it can always use, and capacity nobody uses is borrowed by whoever needs it.
 */
export interface LimiterPartitions {
  /**
   * Fraction of the limit reserved for each priority class, each in [0, 1], together at most 1. A class below its
   * reservation is admitted even when the limit is full (the limiter then runs over its limit by what other classes
   * borrowed, until their calls end); at or above it, the class borrows only while fewer than `limit` calls run.
   * A class left out reserves nothing and only borrows.
   * @default { critical: 0.5, default: 0.3, sheddable: 0.2 }
   */
  readonly classes?: Partial<Readonly<Record<Priority, number>>>;
  /**
   * Split each class's reservation equally among the tenants with calls of that class running or waiting (at least
   * one permit each): once the limit is full, a call is admitted only while its tenant holds less than its split of the class's
   * reservation (whatever other tenants borrowed), and a released permit goes to the waiting tenant that holds the
   * fewest. A full queue makes
   * room for a tenant by shedding the newest call of the tenant with the most waiting. Calls without a tenant are
   * counted as one tenant of their own.
   * @default false
   */
  readonly tenants?: boolean;
  /**
   * Most calls of a class holding permits at once, whatever the limit and the reservations (a whole number, at least
   * 1). Over it, calls of the class wait in the queue (and are shed from it as any waiting call is) until a call of
   * the class ends; other classes are not held back. For a class whose calls all end at one resource with a fixed
   * number of slots (checkouts at an inventory bulkhead), size it from that resource: calls are then let in only as
   * fast as the resource completes them and wait at the door, where waiting costs nothing, instead of being parsed,
   * authenticated and validated only to queue or be refused inside. A class left out has no cap of its own.
   * @default none
   * @example
   * ```ts
   * // 4 slots and 2 queued at the bulkhead, as many again on their way to it or past it (the payment round trip)
   * const partitions = { classes: { critical: 0.5, sheddable: 0.3 }, maxInFlight: { critical: 12 } };
   * ```
   */
  readonly maxInFlight?: Partial<Readonly<Record<Priority, number>>>;
  /**
   * Most calls of a class one tenant may have running or waiting at once, whatever the limit and the reservations
   * (integers, at least 1; needs `tenants`): a call beyond it is refused at once, never queued, with a
   * {@link LoadShedError} of detail `tenant-limit` (reason `rate-limited`), unless `tenantQueue` lets it wait for
   * one of its tenant's own places. A tenant flooding a class whose work is bounded per tenant further in (a
   * per-tenant share of a bulkhead, say) is then refused before that work, at the price of a counter read, instead
   * of after it. A class left out has no per-tenant limit.
   * @default none
   * @example
   * ```ts
   * // A tenant may run three checkouts at once; its fourth is refused at the door.
   * new ConcurrencyLimiter({ partitions: { tenants: true, tenantLimit: { critical: 3 } } });
   * ```
   */
  readonly tenantLimit?: Partial<Readonly<Record<Priority, number>>>;
  /**
   * Most calls of a class one tenant may have waiting for one of its own `tenantLimit` places (whole numbers, at
   * least 0; needs a `tenantLimit` for the class). A call beyond its tenant's limit waits, instead of being refused
   * at once, until one of that tenant's calls of the class ends, at most the queue's `intervalMs` (100 ms without a
   * queue); then it goes on as a new call would (runs, or waits in the queue). Waiters leave in arrival order and a
   * tenant's new calls wait behind them. Past the bound, or once the wait runs out, the call is refused as at the
   * limit (detail `tenant-limit`). A tenant within its plan is then not refused by its own limit for a momentary
   * burst (a limit of 3 checkouts, each held through an 80 ms payment round trip, is exceeded now and then by a
   * tenant sending 30 a second), while a flooding tenant still never holds more than its limit: its excess waits
   * for its own places only, at the price of a timer each. Not counted in `queued`: see
   * {@link ConcurrencyLimiter.tenantQueued}.
   * @default none (a call beyond its tenant's limit is refused at once)
   * @example
   * ```ts
   * // Three checkouts per tenant at once; three more may wait for one of them to end.
   * new ConcurrencyLimiter({ partitions: { tenants: true, tenantLimit: { critical: 3 }, tenantQueue: { critical: 3 } } });
   * ```
   */
  readonly tenantQueue?: Partial<Readonly<Record<Priority, number>>>;
}

/** The CoDel-style queue in front of a {@link ConcurrencyLimiter}. */
export interface LimiterQueueOptions {
  /** Most calls waiting at once; 0 disables queueing (calls over the limit are shed at once). @default 50 */
  readonly maxSize?: number;
  /** Acceptable queueing delay in milliseconds (CoDel's `target`). @default 5 */
  readonly targetMs?: number;
  /**
   * Milliseconds the queueing delay may stay above `targetMs` before queued calls are dropped (CoDel's
   * `interval`); also the longest any call waits in the queue.
   * @default 100
   */
  readonly intervalMs?: number;
}

/** Options for {@link ConcurrencyLimiter}. */
export interface ConcurrencyLimiterOptions {
  /** Policy name used in events. @default 'concurrency-limiter' */
  readonly name?: string;
  /** The limit algorithm. @default new Gradient2Limit() */
  readonly algorithm?: LimitAlgorithm;
  /** Time source for RTT samples and queue timeouts. @default systemClock */
  readonly clock?: Clock;
  /**
   * Fraction of the limit each class may fill, counting every call in flight: a sheddable call is admitted only
   * while fewer than `floor(limit * sheddable)` calls run, so sheddable work is shed first and critical work last.
   * `critical` is always 1.
   * @default { sheddable: 0.5, default: 0.9, critical: 1 }
   */
  readonly shares?: Partial<Readonly<Record<'sheddable' | 'default', number>>>;
  /**
   * Partitioned admission (guaranteed per-class and per-tenant shares, unused capacity borrowable) instead of the
   * nested `shares`; give one or the other.
   * @default none (nested shares)
   */
  readonly partitions?: LimiterPartitions;
  /** The queue for calls that arrive over the limit; `false` disables it. @default { maxSize: 50, targetMs: 5, intervalMs: 100 } */
  readonly queue?: LimiterQueueOptions | false;
  /**
   * Which errors from {@link ConcurrencyLimiter.execute} are overload signals (a "drop" fed to the algorithm).
   * Other errors release the permit without a sample.
   * @default every error is a drop
   */
  readonly isDropped?: (error: unknown) => boolean;
  /**
   * A signal consulted before the limit: a call whose priority it does not admit is shed at once (e.g.
   * {@link EventLoopPressure}, which sheds by priority when the event loop is saturated).
   * @default none
   */
  readonly admission?: AdmissionSignal;
}

/**
 * A permit held by one admitted call. Call exactly one of its methods when the call ends; later calls are ignored.
 */
export interface LimiterPermit {
  readonly priority: Priority;
  /** The call completed; its RTT is a latency sample. */
  success(): void;
  /** The call failed with an overload signal (timeout, 503, ...): AIMD backs off. */
  dropped(): void;
  /** The call ended without telling anything about capacity (e.g. the client went away): no sample. */
  ignore(): void;
}

const PRIORITIES: readonly string[] = PRIORITY_ORDER;

/** A call waiting for one of its own tenant's places (`partitions.tenantQueue`). */
interface TenantWaiter {
  readonly resolve: (permit: Promise<LimiterPermit>) => void;
  readonly reject: (error: LoadShedError) => void;
  timer: TimerHandle | undefined;
}

/** The calls of one tenant waiting for its own places, per class (a class's list exists while it has waiters). */
type TenantWaiters = Partial<Record<Priority, TenantWaiter[]>>;

/** What one tenant holds and has waiting, in a limiter partitioned by tenant. */
interface TenantCount {
  held: number;
  waiting: number;
  /** Permits held per class. */
  readonly byClass: Record<Priority, number>;
  /** Calls running or waiting per class (the tenant is active in a class while this is above 0). */
  readonly activeByClass: Record<Priority, number>;
}

class Permit implements LimiterPermit {
  #done = false;
  // Private: a caller guessing `permit.release()` gets "not a function", not the limiter's internals.
  readonly #release: (permit: Permit, outcome: 0 | 1 | 2) => void;
  constructor(
    readonly priority: Priority,
    readonly tenant: string | undefined,
    readonly startedAt: number,
    readonly inFlight: number,
    release: (permit: Permit, outcome: 0 | 1 | 2) => void,
  ) {
    this.#release = release;
  }
  success(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release(this, 0);
  }
  dropped(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release(this, 1);
  }
  ignore(): void {
    if (this.#done) return;
    this.#done = true;
    this.#release(this, 2);
  }
}

/**
 * Adaptive concurrency limiter for load shedding: admits calls while fewer than the current limit are in flight,
 * learns the limit from latency ({@link Gradient2Limit}, the default) or from drops ({@link AimdLimit}), and sheds the
 * rest by priority class. Modelled on Netflix concurrency-limits (github.com/Netflix/concurrency-limits) and Envoy's
 * adaptive concurrency filter.
 *
 * Calls over the limit wait in a CoDel-style queue (Nichols and Jacobson, "Controlling Queue Delay", 2012): a call
 * waits at most `intervalMs`; once the queueing delay has stayed above `targetMs` for `intervalMs`, queued calls whose
 * delay exceeds the target are dropped at dequeue and newly queued calls wait at most `targetMs`, until a call again
 * leaves the queue within the target. Higher classes leave the queue first; a full queue gives a higher-priority
 * arrival the place of its newest lowest-priority call.
 *
 * With `partitions`, each class (and each tenant) has a guaranteed share of the limit instead of a nested cap:
 * critical work keeps its reservation however much sheddable work arrives, and one tenant's flood borrows only what
 * nobody else uses (see {@link LimiterPartitions}).
 *
 * Emits `limit-change`, `rejected` (reason `shed` with the priority; `queue-timeout` for queue drops), and from
 * {@link ConcurrencyLimiter.execute} `success`/`failure` with durations.
 *
 * @example
 * ```ts
 * import { ConcurrencyLimiter } from '@ballast/resilience';
 * const limiter = new ConcurrencyLimiter({ name: 'api' });
 * const body = await limiter.execute(() => fetchReport(), 'sheddable');
 *
 * // Guaranteed shares: half the limit for checkouts whatever else arrives, an equal split per tenant.
 * const ingress = new ConcurrencyLimiter({ partitions: { classes: { critical: 0.5, default: 0.3 }, tenants: true } });
 * const permit = await ingress.acquire('critical', 'tenant-a');
 * ```
 */
export class ConcurrencyLimiter extends EventedPolicy implements ConcurrencyLimiterGauges {
  override readonly kind = 'concurrency-limiter' as const;

  readonly #algorithm: LimitAlgorithm;
  readonly #clock: Clock;
  readonly #shares: PriorityShares;
  readonly #isDropped: (error: unknown) => boolean;
  readonly #queue: CoDelQueue<Permit>;
  readonly #onPermitEnd = (permit: Permit, outcome: 0 | 1 | 2): void => this.#onRelease(permit, outcome);
  readonly #admission: AdmissionSignal | undefined;

  #limit: number;
  #thresholds: Record<Priority, number> = { critical: 0, default: 0, sheddable: 0 };
  #inFlight = 0;
  #byPriority: Record<Priority, number> = { critical: 0, default: 0, sheddable: 0 };
  /** Partitioned mode: the class reservations (fractions), or undefined for nested shares. */
  readonly #reserve: Readonly<Record<Priority, number>> | undefined;
  #reserved: Record<Priority, number> = { critical: 0, default: 0, sheddable: 0 };
  readonly #byTenant: Map<string | undefined, TenantCount> | undefined;
  /** Partitioned by tenant: how many tenants have calls running or waiting in each class. */
  readonly #activeTenants: Record<Priority, number> = { critical: 0, default: 0, sheddable: 0 };
  /** Partitioned mode: the most calls of each class in flight (`partitions.maxInFlight`; infinite when not set). */
  readonly #caps: Readonly<Record<Priority, number>>;
  /** Partitioned by tenant: most calls of each class one tenant may have running or waiting (Infinity: no limit). */
  readonly #tenantLimit: Readonly<Record<Priority, number>>;
  /** Partitioned by tenant: most calls of each class one tenant may have waiting for its own places (0: none). */
  readonly #tenantQueue: Readonly<Record<Priority, number>>;
  /** How long a call may wait for one of its own tenant's places (the queue's `intervalMs`). */
  readonly #tenantWaitMs: number;
  /** Calls waiting for their own tenant's places, by tenant; a tenant is here only while some wait. */
  readonly #tenantWaiters = new Map<string | undefined, TenantWaiters>();
  #tenantQueued = 0;

  constructor(options: ConcurrencyLimiterOptions = {}) {
    super(policyName(options.name, 'concurrency-limiter'));
    const algorithm = options.algorithm ?? new Gradient2Limit();
    if (typeof algorithm !== 'object' || typeof algorithm.update !== 'function') {
      throw invalidOption('algorithm', 'a LimitAlgorithm (an object with `limit` and `update`)', algorithm);
    }
    this.#algorithm = algorithm;
    this.#clock = options.clock ?? systemClock;
    if (options.partitions !== undefined && options.shares !== undefined) {
      throw invalidOption(
        'shares',
        'no `shares` when `partitions` are given (use one or the other)',
        options.shares,
      );
    }
    this.#reserve = options.partitions === undefined ? undefined : reservations(options.partitions);
    const tenants: unknown = options.partitions?.tenants ?? false;
    if (typeof tenants !== 'boolean') throw invalidOption('partitions.tenants', 'a boolean', tenants);
    this.#byTenant = tenants ? new Map() : undefined;
    this.#caps = caps(options.partitions?.maxInFlight);
    this.#tenantLimit = tenantLimits(options.partitions?.tenantLimit, tenants);
    this.#tenantQueue = tenantQueues(options.partitions?.tenantQueue, this.#tenantLimit);
    const sheddable = checkNumber('shares.sheddable', options.shares?.sheddable, 0.5, { above: 0, max: 1 });
    const dflt = checkNumber('shares.default', options.shares?.default, 0.9, { min: sheddable, max: 1 });
    this.#shares = { critical: 1, default: dflt, sheddable };
    this.#isDropped = checkFunction('isDropped', options.isDropped, () => true);
    if (options.admission !== undefined && typeof options.admission?.admits !== 'function') {
      throw invalidOption(
        'admission',
        'an AdmissionSignal (an object with `admits(priority)`)',
        options.admission,
      );
    }
    this.#admission = options.admission;
    const queue = options.queue === false ? { maxSize: 0 } : (options.queue ?? {});
    const targetMs = checkNumber('queue.targetMs', queue.targetMs, 5, { above: 0 });
    const intervalMs = checkNumber('queue.intervalMs', queue.intervalMs, 100, { min: targetMs });
    this.#tenantWaitMs = intervalMs;
    this.#queue = new CoDelQueue<Permit>({
      maxSize: checkNumber('queue.maxSize', queue.maxSize, 50, { integer: true, min: 0 }),
      targetMs,
      intervalMs,
      clock: this.#clock,
      hasRoom: (ticket) => this.#hasRoom(ticket.priority, ticket.tenant),
      admit: (ticket) => this.#admit(ticket.priority, ticket.tenant),
      shed: (priority, reason) => this.#shed(priority, reason),
      ...(this.#reserve === undefined
        ? {}
        : { partitioned: { held: (tenant: string | undefined) => this.#byTenant?.get(tenant)?.held ?? 0 } }),
      ...(this.#byTenant === undefined
        ? {}
        : { onWait: (ticket: QueueTicket, delta: 1 | -1) => this.#tenantWait(ticket, delta) }),
    });
    this.#limit = 0;
    this.#setLimit(algorithm.limit);
  }

  /** The current concurrency limit. */
  get limit(): number {
    return this.#limit;
  }

  /** Calls holding a permit. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Calls waiting in the queue. */
  get queued(): number {
    return this.#queue.size;
  }

  /**
   * Calls waiting for one of their own tenant's places (`partitions.tenantQueue`), not counted in `queued`: a
   * tenant's burst over its `tenantLimit`, or a flooding tenant's excess, not a sign of the service's overload.
   *
   * @example
   * ```ts
   * const excessWaiting = ingress.tenantQueued;
   * ```
   */
  get tenantQueued(): number {
    return this.#tenantQueued;
  }

  /** Calls holding a permit, per priority class. */
  get inFlightByPriority(): Readonly<Record<Priority, number>> {
    return { ...this.#byPriority };
  }

  /**
   * Calls of `priority` waiting in the queue: e.g. critical calls held at a class's `maxInFlight`, a sign that
   * critical work arrives faster than it completes (an admission signal may shed cheaper work while there are any).
   *
   * @example
   * ```ts
   * const checkoutsWaiting = () => ingress.queuedOf('critical') > 0;
   * ```
   */
  queuedOf(priority: Priority): number {
    this.#checkPriority(priority);
    return this.#queue.sizeOf(priority);
  }

  /**
   * Whether a call of `priority` would pass the admission signal now (no permit is taken, nothing is emitted): a
   * front door asks it before spending anything on a request (authentication, parsing) it would refuse anyway.
   */
  admits(priority: Priority = 'default'): boolean {
    this.#checkPriority(priority);
    return this.#admitted(priority);
  }

  /**
   * {@link ConcurrencyLimiter.admits | admits}, for a front door that refuses at once what the signal refuses: a call
   * that does not pass is counted as shed, as `acquire` would count it (a `rejected` event with reason `shed` and
   * its priority, so shed-rate metrics and alerts see refusals made at the door). No permit is taken either way.
   *
   * @example
   * ```ts
   * if (!limiter.screen('sheddable')) return res.writeHead(503, { 'Retry-After': '1' }).end();
   * const permit = await limiter.acquire('sheddable', tenant); // authenticated, parsed, then admitted
   * ```
   */
  screen(priority: Priority = 'default'): boolean {
    this.#checkPriority(priority);
    if (this.#admitted(priority)) return true;
    this.#reject(priority, 'shed');
    return false;
  }

  /**
   * Takes a permit now, or answers `undefined` (and emits `rejected`) when this priority (or, partitioned by tenant,
   * this `tenant`) has no room. Never queues.
   */
  tryAcquire(priority: Priority = 'default', tenant?: string): LimiterPermit | undefined {
    this.#checkPriority(priority);
    if (this.#overTenantLimit(priority, tenant)) {
      this.#shed(priority, 'tenant-limit');
      return undefined;
    }
    if (this.#hasRoom(priority, tenant) && this.#admitted(priority)) return this.#admit(priority, tenant);
    this.#reject(priority, 'shed');
    return undefined;
  }

  /**
   * Takes a permit: at once when this priority (and `tenant`, when the limiter is partitioned by tenant) has room,
   * else after waiting in the queue. Rejects with a {@link LoadShedError} when the call is shed.
   */
  acquire(priority: Priority = 'default', tenant?: string): Promise<LimiterPermit> {
    this.#checkPriority(priority);
    if (!this.#admitted(priority)) return Promise.reject(this.#shed(priority, 'pressure'));
    return this.#acquireAdmitted(priority, tenant);
  }

  #acquireAdmitted(priority: Priority, tenant?: string): Promise<LimiterPermit> {
    if (this.#overTenantLimit(priority, tenant)) return this.#waitForTenant(priority, tenant);
    return this.#enter(priority, tenant);
  }

  /** A call within its tenant's limit: runs now, or waits in the queue. */
  #enter(priority: Priority, tenant: string | undefined): Promise<LimiterPermit> {
    if (this.#runsNow(priority, tenant)) return Promise.resolve(this.#admit(priority, tenant));
    return this.#queue.enqueue(priority, tenant);
  }

  /**
   * A call over its tenant's limit: waits for one of the tenant's own places (`partitions.tenantQueue`), or is
   * refused at once when the tenant already has as many waiting.
   */
  #waitForTenant(priority: Priority, tenant: string | undefined): Promise<LimiterPermit> {
    let waiters = this.#tenantWaiters.get(tenant);
    const list = waiters?.[priority];
    if ((list?.length ?? 0) >= this.#tenantQueue[priority]) {
      return Promise.reject(this.#shed(priority, 'tenant-limit'));
    }
    if (waiters === undefined) {
      waiters = {};
      this.#tenantWaiters.set(tenant, waiters);
    }
    const queue = list ?? (waiters[priority] = []);
    return new Promise<LimiterPermit>((resolve, reject) => {
      const waiter: TenantWaiter = { resolve, reject, timer: undefined };
      waiter.timer = this.#clock.setTimeout(
        () => this.#tenantWaitExpired(waiter, priority, tenant),
        this.#tenantWaitMs,
      );
      queue.push(waiter);
      this.#tenantQueued++;
    });
  }

  #tenantWaitExpired(waiter: TenantWaiter, priority: Priority, tenant: string | undefined): void {
    const list = this.#tenantWaiters.get(tenant)?.[priority];
    const i = list?.indexOf(waiter) ?? -1;
    if (i < 0) return;
    list!.splice(i, 1);
    this.#tenantWaiterLeft(priority, tenant);
    waiter.reject(this.#shed(priority, 'tenant-limit'));
  }

  /** Bookkeeping of a call leaving a tenant's waiters: drops the lists nobody waits in. */
  #tenantWaiterLeft(priority: Priority, tenant: string | undefined): void {
    this.#tenantQueued--;
    const waiters = this.#tenantWaiters.get(tenant);
    if (waiters === undefined || (waiters[priority]?.length ?? 0) > 0) return;
    delete waiters[priority];
    if (waiters.critical === undefined && waiters.default === undefined && waiters.sheddable === undefined) {
      this.#tenantWaiters.delete(tenant);
    }
  }

  /** Lets `tenant`'s calls of `priority` waiting for its own places go on, oldest first, while it has room. */
  #releaseTenantWaiters(priority: Priority, tenant: string | undefined): void {
    const list = this.#tenantWaiters.get(tenant)?.[priority];
    if (list === undefined) return;
    const cap = this.#tenantLimit[priority];
    while (list.length > 0 && (this.#byTenant?.get(tenant)?.activeByClass[priority] ?? 0) < cap) {
      const waiter = list.shift()!;
      if (waiter.timer !== undefined) this.#clock.clearTimeout(waiter.timer);
      this.#tenantWaiterLeft(priority, tenant);
      waiter.resolve(this.#enter(priority, tenant));
    }
  }

  /**
   * Whether a new call may take a permit without queueing: nobody waits ahead of it and it has room. Partitioned,
   * only its own class counts as ahead (the queue would admit it past other classes' waiters anyway: a class held
   * at its `maxInFlight` or over its reservation does not hold the others back).
   */
  #runsNow(priority: Priority, tenant: string | undefined): boolean {
    const ahead = this.#reserve === undefined ? this.#queue.size : this.#queue.sizeOf(priority);
    return ahead === 0 && this.#hasRoom(priority, tenant);
  }

  /** Whether a call of `priority` for `tenant` may run now. */
  #hasRoom(priority: Priority, tenant: string | undefined): boolean {
    if (this.#reserve === undefined) return this.#inFlight < this.#thresholds[priority];
    if (this.#byPriority[priority] >= this.#caps[priority]) return false;
    // Unused capacity is borrowed by anyone; once the limit is full, only reservations admit.
    if (this.#inFlight < this.#limit) return true;
    const byTenant = this.#byTenant;
    if (byTenant === undefined) return this.#byPriority[priority] < this.#reserved[priority];
    // Each active tenant's reservation in a class is an equal split of the class's.
    const reserved = this.#reserved[priority];
    if (reserved === 0) return false;
    const entry = byTenant.get(tenant);
    const active = this.#activeTenants[priority] + ((entry?.activeByClass[priority] ?? 0) > 0 ? 0 : 1);
    return (entry?.byClass[priority] ?? 0) < Math.max(1, Math.floor(reserved / active));
  }

  /**
   * Whether `tenant` already runs or waits for as many calls of `priority` as `partitions.tenantLimit` allows, or
   * has calls waiting for its own places (a new call does not pass them).
   */
  #overTenantLimit(priority: Priority, tenant: string | undefined): boolean {
    const cap = this.#tenantLimit[priority];
    if (cap === Number.POSITIVE_INFINITY) return false;
    const active = this.#byTenant?.get(tenant)?.activeByClass[priority] ?? 0;
    if (active >= cap) return true;
    return this.#tenantQueued > 0 && this.#tenantWaiters.get(tenant)?.[priority] !== undefined;
  }

  #tenantEntry(tenant: string | undefined): TenantCount {
    const byTenant = this.#byTenant!;
    let entry = byTenant.get(tenant);
    if (entry === undefined) {
      entry = {
        held: 0,
        waiting: 0,
        byClass: { critical: 0, default: 0, sheddable: 0 },
        activeByClass: { critical: 0, default: 0, sheddable: 0 },
      };
      byTenant.set(tenant, entry);
    }
    return entry;
  }

  #tenantWait(ticket: QueueTicket, delta: 1 | -1): void {
    const entry = this.#tenantEntry(ticket.tenant);
    entry.waiting += delta;
    this.#tenantActive(entry, ticket.priority, delta);
    if (entry.held <= 0 && entry.waiting <= 0) this.#byTenant!.delete(ticket.tenant);
    if (delta === -1 && this.#tenantQueued > 0 && this.#tenantWaiters.has(ticket.tenant)) {
      // A queued call left: admitted (its place is taken again at once) or shed, which frees one of the tenant's
      // places. The queue is in the middle of its work: its waiters go on once it is done.
      const { priority, tenant } = ticket;
      queueMicrotask(() => this.#releaseTenantWaiters(priority, tenant));
    }
  }

  /** Counts a call of `priority` joining (+1) or leaving (-1) a tenant's running or waiting calls. */
  #tenantActive(entry: TenantCount, priority: Priority, delta: 1 | -1): void {
    const before = entry.activeByClass[priority];
    entry.activeByClass[priority] = before + delta;
    if (before === 0 && delta === 1) this.#activeTenants[priority]++;
    else if (before === 1 && delta === -1) this.#activeTenants[priority]--;
  }

  /**
   * Runs `fn` under a permit (of `tenant`, when the limiter is partitioned by tenant). Errors for which `isDropped` answers true are drops; other errors release the permit
   * without a sample. Rejects with a {@link LoadShedError} when the call is shed.
   */
  async execute<T>(fn: () => T | Promise<T>, priority: Priority = 'default', tenant?: string): Promise<T> {
    if (!PRIORITIES.includes(priority)) this.#checkPriority(priority);
    if (!this.#admitted(priority)) throw this.#shed(priority, 'pressure');
    const permit =
      !this.#overTenantLimit(priority, tenant) && this.#runsNow(priority, tenant)
        ? this.#admit(priority, tenant)
        : await this.#acquireAdmitted(priority, tenant);
    try {
      const value = await fn();
      this.#release(permit as Permit, undefined, false);
      return value;
    } catch (error) {
      this.#release(permit as Permit, error, true);
      throw error;
    }
  }

  /**
   * How the limiter takes part in a `pipeline`: a gate that holds a `default`-priority permit around the rest of the
   * pipeline (use {@link ConcurrencyLimiter.execute} for other classes). A shed call throws a
   * {@link LoadShedError}, which a fallback policy outside handles.
   * @internal
   */
  [toStep](): Step {
    return { gate: this.#gate };
  }

  readonly #gate: Gate = {
    enter: () => {
      if (!this.#admitted('default')) throw this.#shed('default', 'pressure');
      return this.#runsNow('default', undefined)
        ? this.#admit('default', undefined)
        : this.#acquireAdmitted('default');
    },
    leave: (permit, _call, error, failed) => {
      this.#release(permit as Permit, error, failed);
      return error;
    },
  };

  /** Ends a call run by `execute` or the pipeline gate: sample (or none) and outcome event. */
  #release(permit: Permit, error: unknown, failed: boolean): void {
    let dropped = false;
    if (failed) {
      try {
        dropped = this.#isDropped(error);
      } catch (predicateError) {
        // A throwing predicate must not turn the caller's error into a different one: report it, count no drop.
        reportError(predicateError, `${this.name}: isDropped threw`);
      }
    }
    const now = this.events.hasListeners ? this.#clock.now() : 0;
    if (!failed) permit.success();
    else if (dropped) permit.dropped();
    else permit.ignore();
    if (this.events.hasListeners) this.emitOutcome(now - permit.startedAt, error, failed, dropped);
  }

  #checkPriority(priority: Priority): void {
    if (!PRIORITIES.includes(priority)) {
      throw invalidOption('priority', "one of 'critical', 'default', 'sheddable'", priority);
    }
  }

  #admit(priority: Priority, tenant: string | undefined): Permit {
    this.#inFlight++;
    this.#byPriority[priority]++;
    if (this.#byTenant !== undefined) {
      const entry = this.#tenantEntry(tenant);
      entry.held++;
      entry.byClass[priority]++;
      this.#tenantActive(entry, priority, 1);
    }
    return new Permit(priority, tenant, this.#clock.now(), this.#inFlight, this.#onPermitEnd);
  }

  #onRelease(permit: Permit, outcome: 0 | 1 | 2): void {
    this.#inFlight--;
    this.#byPriority[permit.priority]--;
    if (this.#byTenant !== undefined) {
      const entry = this.#tenantEntry(permit.tenant);
      entry.held--;
      entry.byClass[permit.priority]--;
      this.#tenantActive(entry, permit.priority, -1);
      if (entry.held <= 0 && entry.waiting <= 0) this.#byTenant.delete(permit.tenant);
    }
    if (outcome !== 2) {
      const rttMs = this.#clock.now() - permit.startedAt;
      this.#setLimit(this.#algorithm.update({ rttMs, inFlight: permit.inFlight, dropped: outcome === 1 }));
    }
    if (this.#queue.size > 0) this.#queue.drain();
    else this.#queue.idle();
    if (this.#tenantQueued > 0) this.#releaseTenantWaiters(permit.priority, permit.tenant);
  }

  #setLimit(next: number): void {
    const to = Math.max(1, Math.floor(next));
    if (to === this.#limit) return;
    const from = this.#limit;
    this.#limit = to;
    this.#thresholds = {
      critical: to,
      default: Math.max(1, Math.floor(to * this.#shares.default)),
      sheddable: Math.max(1, Math.floor(to * this.#shares.sheddable)),
    };
    if (this.#reserve !== undefined) {
      const r = this.#reserve;
      this.#reserved = {
        critical: Math.floor(to * r.critical),
        default: Math.floor(to * r.default),
        sheddable: Math.floor(to * r.sheddable),
      };
    }
    if (from !== 0 && this.events.hasListeners) {
      this.events.emit({ type: 'limit-change', policy: this.name, kind: this.kind, from, to });
    }
  }

  #admitted(priority: Priority): boolean {
    if (this.#admission === undefined) return true;
    try {
      return this.#admission.admits(priority);
    } catch (error) {
      reportError(error, 'admission signal threw');
      return true;
    }
  }

  #reject(priority: Priority, reason: RejectionReason): void {
    if (this.events.hasListeners) {
      this.events.emit({ type: 'rejected', policy: this.name, kind: this.kind, reason, priority });
    }
  }

  #shed(priority: Priority, detail: LoadShedReason): LoadShedError {
    const error = new LoadShedError(detail, priority, this.#limit);
    this.#reject(priority, error.reason);
    return error;
  }
}

const DEFAULT_RESERVATIONS: Readonly<Record<Priority, number>> = {
  critical: 0.5,
  default: 0.3,
  sheddable: 0.2,
};

const UNBOUNDED: Readonly<Record<Priority, number>> = {
  critical: Number.POSITIVE_INFINITY,
  default: Number.POSITIVE_INFINITY,
  sheddable: Number.POSITIVE_INFINITY,
};

/** Call counts per priority class (`option` names them in errors), checked: whole numbers of at least 1; infinite when left out. */
function countsPerClass(
  option: string,
  counts: Partial<Readonly<Record<Priority, number>>> | undefined,
  min = 1,
  fallback = Number.POSITIVE_INFINITY,
): Readonly<Record<Priority, number>> {
  if (counts === undefined) return fallback === Number.POSITIVE_INFINITY ? UNBOUNDED : perClass(fallback);
  if (typeof counts !== 'object' || counts === null) {
    throw invalidOption(option, 'an object of call counts per priority class', counts);
  }
  for (const key of Object.keys(counts)) {
    if (!PRIORITIES.includes(key))
      throw invalidOption(option, "keys among 'critical', 'default', 'sheddable'", key);
  }
  const of = (priority: Priority) =>
    checkNumber(`${option}.${priority}`, counts[priority], fallback, { integer: true, min });
  return { critical: of('critical'), default: of('default'), sheddable: of('sheddable') };
}

/** The per-class caps of `partitions.maxInFlight`. */
function caps(maxInFlight: LimiterPartitions['maxInFlight']): Readonly<Record<Priority, number>> {
  return countsPerClass('partitions.maxInFlight', maxInFlight);
}

/** `partitions.tenantLimit`: only with `tenants`. */
function tenantLimits(
  limits: LimiterPartitions['tenantLimit'],
  tenants: boolean,
): Readonly<Record<Priority, number>> {
  if (limits !== undefined && !tenants) {
    throw invalidOption('partitions.tenantLimit', 'only with `partitions.tenants: true`', limits);
  }
  return countsPerClass('partitions.tenantLimit', limits);
}

/** `partitions.tenantQueue`: bounds of at least 0, each for a class with a `tenantLimit`; 0 when left out. */
function tenantQueues(
  queues: LimiterPartitions['tenantQueue'],
  limits: Readonly<Record<Priority, number>>,
): Readonly<Record<Priority, number>> {
  const out = countsPerClass('partitions.tenantQueue', queues, 0, 0);
  for (const priority of PRIORITY_ORDER) {
    if (out[priority] > 0 && limits[priority] === Number.POSITIVE_INFINITY) {
      throw invalidOption(
        `partitions.tenantQueue.${priority}`,
        `a bound only for a class with a \`partitions.tenantLimit\``,
        out[priority],
      );
    }
  }
  return out;
}

function perClass(n: number): Readonly<Record<Priority, number>> {
  return { critical: n, default: n, sheddable: n };
}

/** The class reservations of `partitions`, checked: each in [0, 1], together at most 1. */
function reservations(partitions: LimiterPartitions): Readonly<Record<Priority, number>> {
  if (typeof partitions !== 'object' || partitions === null) {
    throw invalidOption('partitions', 'an object with `classes` and/or `tenants`', partitions);
  }
  const classes = partitions.classes;
  if (classes === undefined) return DEFAULT_RESERVATIONS;
  if (typeof classes !== 'object' || classes === null) {
    throw invalidOption('partitions.classes', 'an object of fractions per priority class', classes);
  }
  for (const key of Object.keys(classes)) {
    if (!PRIORITIES.includes(key)) {
      throw invalidOption('partitions.classes', "keys among 'critical', 'default', 'sheddable'", key);
    }
  }
  const out = {
    critical: checkNumber('partitions.classes.critical', classes.critical, 0, { min: 0, max: 1 }),
    default: checkNumber('partitions.classes.default', classes.default, 0, { min: 0, max: 1 }),
    sheddable: checkNumber('partitions.classes.sheddable', classes.sheddable, 0, { min: 0, max: 1 }),
  };
  const total = out.critical + out.default + out.sheddable;
  if (total > 1 + 1e-9) {
    throw invalidOption(
      'partitions.classes',
      `fractions that add up to at most 1 (they add up to ${total})`,
      classes,
    );
  }
  return out;
}
