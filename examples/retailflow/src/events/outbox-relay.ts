import {
  EventEmitter,
  checkNumber,
  reportError,
  systemClock,
  type Clock,
  type TimerHandle,
} from '@ballast/core';
import { isStaleTokenError, type Lease } from '@ballast/resilience';
import type { OutboxRecord, OutboxStats, OutboxStore, RelayFence } from '../data/repository.js';
import type { Broker, EventEnvelope } from './broker.js';
import { envelopeFromOutbox } from './envelope.js';
import { isBrokerUnavailableError, isPoisonMessageError } from './errors.js';

/**
 * How long to wait before try number `attempt` (1 for the first retry); `random` is uniform in [0, 1). The shape
 * of `Backoff` in `@ballast/resilience`, so an `ExponentialBackoff` from there can be passed as is.
 */
export interface RelayBackoff {
  delayMs(attempt: number, previousMs: number, random: () => number): number;
}

/**
 * The relay's default backoff: `min(maxMs, baseMs * 2 ** (attempt - 1))`, with "equal jitter" (half fixed, half
 * random) so relays that failed together do not retry together.
 *
 * @example
 * ```ts
 * import { OutboxRelay, exponentialRelayBackoff } from './events/index.js';
 * const relay = new OutboxRelay({ store: repo, broker, backoff: exponentialRelayBackoff(1_000, 120_000) });
 * ```
 */
export function exponentialRelayBackoff(baseMs: number, maxMs: number): RelayBackoff {
  return {
    delayMs(attempt, _previous, random) {
      const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 52));
      return ceiling / 2 + random() * (ceiling / 2);
    },
  };
}

/**
 * The leadership lock a relay takes before each batch: `LeaseLock` from `@ballast/resilience` over the
 * repository's `relayLeases` fits as is.
 */
export interface RelayLeadershipLock {
  readonly key: string;
  readonly leaseMs: number;
  readonly held: Lease | undefined;
  acquire(): Promise<Lease | undefined>;
  renew(): Promise<Lease | undefined>;
  release(): Promise<boolean>;
}

/** The relay became the leader (with its fencing token) or stopped being it. */
export interface RelayLeadershipEvent {
  readonly leader: boolean;
  /** The fencing token of the lease (the last one held when `leader` is false). */
  readonly token: number;
  /** Why leadership ended: the lease could not be renewed, or the store refused the token. */
  readonly reason?: 'lost' | 'fenced' | 'stopped';
}

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions {
  /** Where events come from (the repository). */
  readonly store: OutboxStore;
  /** Where they go; only `publish` is used. */
  readonly broker: Pick<Broker, 'publish'>;
  /** @default systemClock */
  readonly clock?: Clock;
  /** Events claimed per batch. @default 50 */
  readonly batchSize?: number;
  /** Wait between polls when the outbox had nothing due, in ms. @default 250 */
  readonly pollIntervalMs?: number;
  /** Lease on a claimed batch; another relay may take the events after it. @default 30000 */
  readonly leaseMs?: number;
  /** Publish attempts before an event is dead-lettered (an outage does not count). @default 8 */
  readonly maxAttempts?: number;
  /** Delay before an event's next attempt. @default exponential, 500 ms doubling to 60 s, equal jitter */
  readonly backoff?: RelayBackoff;
  /** Delay before polling again while the broker (or the store) is unavailable. @default 250 ms doubling to 10 s */
  readonly outageBackoff?: RelayBackoff;
  /** Uniform random numbers in [0, 1) for jitter. @default Math.random */
  readonly random?: () => number;
  /** Published events are kept this long, then pruned from the outbox. @default 3600000 (1 hour) */
  readonly retainPublishedMs?: number;
  /** How often the relay prunes published events. @default 60000 */
  readonly pruneIntervalMs?: number;
  /**
   * A leadership lease with fencing tokens. With it, only the holder publishes: the relay renews the lease
   * before a batch once a third of it has passed, claims with its token, and marks published with its token, and
   * the store refuses both once another relay holds a higher token, so a relay paused past its lease (or cut off
   * in a partition) stops at its next write. Without it, relays share the outbox through per-event claims.
   * @default undefined (no leadership: every relay claims)
   * @example
   * ```ts
   * import { LeaseLock } from '@ballast/resilience';
   * const lock = new LeaseLock({ store: repo.relayLeases, key: 'outbox-relay', leaseMs: 10_000 });
   * const relay = new OutboxRelay({ store: repo, broker, leadership: lock });
   * ```
   */
  readonly leadership?: RelayLeadershipLock;
}

/** One event published (confirmed by the broker). `lagMs` is the time from the change to the confirm. */
export interface RelayPublishedEvent {
  readonly id: string;
  readonly type: string;
  readonly tenantId: string;
  readonly lagMs: number;
  /** Failed attempts before this one. */
  readonly previousAttempts: number;
}

/** A publish attempt failed; the event is retried at `nextAttemptAt`. */
export interface RelayFailedEvent {
  readonly id: string;
  readonly type: string;
  /** Failed attempts so far, this one included. */
  readonly attempts: number;
  readonly error: unknown;
  readonly nextAttemptAt: number;
}

/** An event moved to the outbox dead-letter state. */
export interface RelayDeadLetteredEvent {
  readonly id: string;
  readonly type: string;
  readonly attempts: number;
  /** `poison` (payload unusable or refused as poison) or `max_attempts`. */
  readonly reason: 'poison' | 'max_attempts';
  readonly error: unknown;
}

/** The broker or the store could not be reached; the relay polls again after `retryInMs`. */
export interface RelayOutageEvent {
  readonly source: 'broker' | 'store';
  readonly error: unknown;
  /** Consecutive unavailable polls. */
  readonly consecutive: number;
  readonly retryInMs: number;
}

/** What one batch did. */
export interface RelayBatchResult {
  readonly claimed: number;
  readonly published: number;
  readonly failed: number;
  readonly deadLettered: number;
  /** Events handed back unattempted because the broker was unavailable. */
  readonly released: number;
  /** Set when the broker or store was unavailable during the batch. */
  readonly outage: 'broker' | 'store' | undefined;
  /**
   * Events published whose mark the store refused because this relay's fencing token was stale: the new leader
   * publishes them again (consumers deduplicate on the event id).
   */
  readonly fenced: number;
  /** False when the relay has a leadership lock and does not hold it (the batch did nothing). */
  readonly leader: boolean;
}

/**
 * The transactional outbox relay: claims due events in batches (leased, so two relays never publish one event at
 * the same time), publishes each with a publisher confirm, marks it published only after the confirm, and retries
 * a refused publish with exponential backoff, dead-lettering the event after `maxAttempts` (or at once when its
 * payload is poison). While the broker is unavailable it hands the batch back without counting attempts and polls
 * again with backoff, so an outage delays events but never dead-letters them. Delivery is at-least-once (a crash
 * between the confirm and the mark republishes), which consumers absorb by deduplicating on the event id.
 * Events go out in commit order, except around a refused publish: the refused event waits for its backoff while
 * younger events go ahead, so consumers must not rely on strict per-order sequence.
 *
 * @example
 * ```ts
 * import { OutboxRelay, InMemoryBroker } from './events/index.js';
 * const relay = new OutboxRelay({ store: repo, broker: new InMemoryBroker() });
 * relay.onDeadLettered((e) => console.warn('dead-lettered', e.id, e.reason));
 * relay.start();
 * // on shutdown:
 * await relay.stop();
 * ```
 */
export class OutboxRelay {
  readonly #store: OutboxStore;
  readonly #broker: Pick<Broker, 'publish'>;
  readonly #clock: Clock;
  readonly #batchSize: number;
  readonly #pollIntervalMs: number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #backoff: RelayBackoff;
  readonly #outageBackoff: RelayBackoff;
  readonly #random: () => number;
  readonly #retainPublishedMs: number;
  readonly #pruneIntervalMs: number;
  readonly #leadership: RelayLeadershipLock | undefined;
  #lastRenew = 0;
  #leading: Lease | undefined;
  #lastPrune: number;

  readonly #published = new EventEmitter<RelayPublishedEvent>();
  readonly #failed = new EventEmitter<RelayFailedEvent>();
  readonly #deadLettered = new EventEmitter<RelayDeadLetteredEvent>();
  readonly #outage = new EventEmitter<RelayOutageEvent>();
  readonly #batch = new EventEmitter<RelayBatchResult & { readonly durationMs: number }>();
  readonly #leadershipChanged = new EventEmitter<RelayLeadershipEvent>();

  /** Fires for each event the broker confirmed. */
  readonly onPublished = this.#published.event;
  /** Fires for each refused publish that will be retried. */
  readonly onFailed = this.#failed.event;
  /** Fires when an event is dead-lettered. */
  readonly onDeadLettered = this.#deadLettered.event;
  /** Fires when a poll finds the broker or the store unavailable. */
  readonly onOutage = this.#outage.event;
  /** Fires after every batch that claimed something or hit an outage. */
  readonly onBatch = this.#batch.event;
  /** Fires when the relay takes or loses its leadership lease (only with `leadership`). */
  readonly onLeadership = this.#leadershipChanged.event;

  #running = false;
  #timer: TimerHandle | undefined;
  #current: Promise<RelayBatchResult> | undefined;
  #outages = 0;
  #lastOutageDelay = 0;

  constructor(options: OutboxRelayOptions) {
    if (typeof options?.store?.claimOutbox !== 'function') {
      throw new TypeError(
        'Expected `store` to be an OutboxStore (the repository), got ' + typeof options?.store,
      );
    }
    if (typeof options.broker?.publish !== 'function') {
      throw new TypeError('Expected `broker` to be a Broker with `publish`, got ' + typeof options.broker);
    }
    this.#store = options.store;
    this.#broker = options.broker;
    this.#clock = options.clock ?? systemClock;
    this.#batchSize = checkNumber('batchSize', options.batchSize, 50, { integer: true, min: 1, max: 10_000 });
    this.#pollIntervalMs = checkNumber('pollIntervalMs', options.pollIntervalMs, 250, { min: 0 });
    this.#leaseMs = checkNumber('leaseMs', options.leaseMs, 30_000, { above: 0 });
    this.#maxAttempts = checkNumber('maxAttempts', options.maxAttempts, 8, { integer: true, min: 1 });
    this.#backoff = options.backoff ?? exponentialRelayBackoff(500, 60_000);
    this.#outageBackoff = options.outageBackoff ?? exponentialRelayBackoff(250, 10_000);
    this.#random = options.random ?? Math.random;
    this.#retainPublishedMs = checkNumber('retainPublishedMs', options.retainPublishedMs, 3_600_000, {
      min: 0,
    });
    this.#pruneIntervalMs = checkNumber('pruneIntervalMs', options.pruneIntervalMs, 60_000, { above: 0 });
    this.#lastPrune = this.#clock.now();
    if (options.leadership !== undefined && typeof options.leadership.acquire !== 'function') {
      throw new TypeError(
        'Expected `leadership` to be a lease lock (LeaseLock from @ballast/resilience), got ' +
          typeof options.leadership,
      );
    }
    this.#leadership = options.leadership;
  }

  /** The lease this relay leads with, or `undefined` (no leadership lock, or not the leader). */
  get leadingWith(): Lease | undefined {
    return this.#leading;
  }

  /** True between {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#running;
  }

  /** Depth, lag (age of the oldest unpublished event) and dead-letter count, for metrics and the freshness SLO. */
  stats(): Promise<OutboxStats> {
    return this.#store.outboxStats();
  }

  /** Starts polling on the clock. Calling it while running does nothing. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#schedule(0);
  }

  /**
   * Stops polling: no new batch starts, the batch in progress finishes (its events are published and marked),
   * then the promise resolves.
   */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#current) await this.#current.catch(() => undefined);
    if (this.#leadership && this.#leading) {
      const token = this.#leading.token;
      this.#leading = undefined;
      try {
        await this.#leadership.release();
      } catch (error) {
        reportError(error, 'outbox relay could not release its leadership lease');
      }
      this.#emitLeadership({ leader: false, token, reason: 'stopped' });
    }
  }

  /** Takes or renews the leadership lease; the fence to write with, or `undefined` when another relay leads. */
  async #lead(): Promise<RelayFence | undefined> {
    const lock = this.#leadership!;
    const now = this.#clock.now();
    let lease = lock.held;
    if (lease && now - this.#lastRenew >= lock.leaseMs / 3) {
      lease = await lock.renew();
      this.#lastRenew = now;
    }
    if (!lease) {
      lease = await lock.acquire();
      this.#lastRenew = now;
    }
    const previous = this.#leading;
    this.#leading = lease;
    if (lease && lease.token !== previous?.token) {
      if (previous) this.#emitLeadership({ leader: false, token: previous.token, reason: 'lost' });
      this.#emitLeadership({ leader: true, token: lease.token });
    } else if (!lease && previous) {
      this.#emitLeadership({ leader: false, token: previous.token, reason: 'lost' });
    }
    return lease ? { key: lock.key, token: lease.token } : undefined;
  }

  #fenced(fence: RelayFence): void {
    if (this.#leading?.token === fence.token) {
      this.#leading = undefined;
      this.#emitLeadership({ leader: false, token: fence.token, reason: 'fenced' });
    }
  }

  #emitLeadership(event: RelayLeadershipEvent): void {
    if (this.#leadershipChanged.hasListeners) this.#leadershipChanged.emit(event);
  }

  #schedule(delayMs: number): void {
    if (!this.#running) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#tick();
    }, delayMs);
  }

  async #tick(): Promise<void> {
    if (!this.#running) return;
    let result: RelayBatchResult | undefined;
    try {
      result = await this.runOnce();
    } catch (error) {
      reportError(error, 'outbox relay batch failed');
    }
    if (!this.#running) return;
    if (result?.outage) this.#schedule(this.#lastOutageDelay);
    else if (result && result.claimed >= this.#batchSize) this.#schedule(0);
    else this.#schedule(this.#pollIntervalMs);
  }

  /**
   * Runs one batch now (the loop started by {@link start} calls this; tests and tools may call it directly).
   * Batches never overlap: a call while one runs waits for it and returns its result.
   */
  runOnce(): Promise<RelayBatchResult> {
    if (this.#current) return this.#current;
    const run = this.#runBatch().finally(() => {
      if (this.#current === run) this.#current = undefined;
    });
    this.#current = run;
    return run;
  }

  #enterOutage(source: 'broker' | 'store', error: unknown): void {
    this.#outages++;
    const delay = this.#outageBackoff.delayMs(this.#outages, this.#lastOutageDelay, this.#random);
    this.#lastOutageDelay = delay;
    if (this.#outage.hasListeners) {
      this.#outage.emit({ source, error, consecutive: this.#outages, retryInMs: delay });
    }
  }

  async #runBatch(): Promise<RelayBatchResult> {
    const started = this.#clock.now();
    const idle = (outage: 'store' | undefined, leader: boolean): RelayBatchResult => ({
      claimed: 0,
      published: 0,
      failed: 0,
      deadLettered: 0,
      released: 0,
      outage,
      fenced: 0,
      leader,
    });
    let fence: RelayFence | undefined;
    let records: OutboxRecord[];
    try {
      if (this.#leadership) {
        fence = await this.#lead();
        if (!fence) return idle(undefined, false);
      }
      records = await this.#store.claimOutbox({
        limit: this.#batchSize,
        leaseMs: this.#leaseMs,
        ...(fence ? { fence } : {}),
      });
    } catch (error) {
      if (fence && isStaleTokenError(error)) {
        this.#fenced(fence);
        return idle(undefined, false);
      }
      this.#enterOutage('store', error);
      const result = idle('store', fence !== undefined || !this.#leadership);
      this.#emitBatch(result, started);
      return result;
    }

    let failed = 0;
    let deadLettered = 0;
    let brokerDown: unknown;
    const confirmed: { record: OutboxRecord; at: number }[] = [];
    const released: string[] = [];

    // Issue every publish in claim order (the broker keeps that order), then wait for all the confirms.
    const attempts = records.map((record) => {
      let envelope: EventEnvelope;
      try {
        envelope = envelopeFromOutbox(record);
      } catch (error) {
        return { record, outcome: Promise.resolve<unknown>(error), poison: true };
      }
      const outcome = this.#broker.publish(envelope).then(
        () => {
          confirmed.push({ record, at: this.#clock.now() });
          return undefined;
        },
        (error: unknown) => error ?? new Error('publish rejected'),
      );
      return { record, outcome, poison: false };
    });

    for (const { record, outcome, poison } of attempts) {
      const error = await outcome;
      if (error === undefined) continue;
      try {
        if (poison || isPoisonMessageError(error)) {
          await this.#store.markDeadLettered(record.id, describe(error));
          deadLettered++;
          this.#emitDead(record, 'poison', error);
        } else if (isBrokerUnavailableError(error)) {
          brokerDown ??= error;
          released.push(record.id);
        } else {
          const attemptsSoFar = record.attempts + 1;
          if (attemptsSoFar >= this.#maxAttempts) {
            await this.#store.markDeadLettered(record.id, describe(error));
            deadLettered++;
            this.#emitDead(record, 'max_attempts', error);
          } else {
            const nextAttemptAt = this.#clock.now() + this.#backoff.delayMs(attemptsSoFar, 0, this.#random);
            await this.#store.markFailed(record.id, describe(error), nextAttemptAt);
            failed++;
            if (this.#failed.hasListeners) {
              this.#failed.emit({
                id: record.id,
                type: record.type,
                attempts: attemptsSoFar,
                error,
                nextAttemptAt,
              });
            }
          }
        }
      } catch (storeError) {
        // The store failed while recording the outcome: the lease expires and the event is retried.
        reportError(storeError, `outbox relay could not record the outcome of event ${record.id}`);
      }
    }

    let fencedCount = 0;
    if (confirmed.length > 0) {
      try {
        await this.#store.markPublished(
          confirmed.map((c) => c.record.id),
          fence,
        );
      } catch (error) {
        if (!fence || !isStaleTokenError(error)) throw error;
        // Another relay leads now: it publishes these events again and consumers drop the duplicates.
        this.#fenced(fence);
        fencedCount = confirmed.length;
        confirmed.length = 0;
      }
      if (this.#published.hasListeners) {
        for (const { record, at } of confirmed) {
          this.#published.emit({
            id: record.id,
            type: record.type,
            tenantId: record.tenantId,
            lagMs: Math.max(0, at - record.createdAt),
            previousAttempts: record.attempts,
          });
        }
      }
    }
    if (released.length > 0) {
      try {
        await this.#store.releaseClaims(released);
      } catch (error) {
        reportError(error, 'outbox relay could not release its claims');
      }
    }
    if (brokerDown !== undefined) this.#enterOutage('broker', brokerDown);
    else {
      this.#outages = 0;
      this.#lastOutageDelay = 0;
    }

    await this.#pruneIfDue();

    const result: RelayBatchResult = {
      claimed: records.length,
      published: confirmed.length,
      failed,
      deadLettered,
      released: released.length,
      outage: brokerDown === undefined ? undefined : 'broker',
      fenced: fencedCount,
      leader: fencedCount === 0,
    };
    this.#emitBatch(result, started);
    return result;
  }

  async #pruneIfDue(): Promise<void> {
    const now = this.#clock.now();
    if (now - this.#lastPrune < this.#pruneIntervalMs) return;
    this.#lastPrune = now;
    try {
      await this.#store.pruneOutbox(now - this.#retainPublishedMs);
    } catch (error) {
      reportError(error, 'outbox relay could not prune published events');
    }
  }

  #emitDead(record: OutboxRecord, reason: 'poison' | 'max_attempts', error: unknown): void {
    if (this.#deadLettered.hasListeners) {
      this.#deadLettered.emit({
        id: record.id,
        type: record.type,
        attempts: record.attempts + 1,
        reason,
        error,
      });
    }
  }

  #emitBatch(result: RelayBatchResult, started: number): void {
    if ((result.claimed > 0 || result.outage || result.fenced > 0) && this.#batch.hasListeners) {
      this.#batch.emit({ ...result, durationMs: this.#clock.now() - started });
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
