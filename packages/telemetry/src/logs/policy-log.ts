import {
  type Clock,
  type Subscription,
  type TimerHandle,
  checkNumber,
  reportError,
  systemClock,
} from '@ballast/core';
import type { PolicyEvent } from '@ballast/core';
import type { PolicyLike } from '../policy/policy-metrics.js';
import { combine } from '../use/common.js';
import type { LoggerLike } from './logger.js';
import { rateLimitedLogger } from './rate-limited.js';

/** Options for {@link logPolicyEvents}. */
export interface PolicyLogOptions {
  /**
   * Source of time for shedding episodes and the rate limit of repeated warnings.
   * @default systemClock
   * @example
   * ```ts
   * logPolicyEvents(logger, [limiter], { clock: new ManualClock() });
   * ```
   */
  readonly clock?: Clock;
  /**
   * A shedding episode ends when a policy has shed nothing for this long (then `load shedding stopped` is logged
   * with the count and the duration).
   * @default 10_000
   * @example
   * ```ts
   * logPolicyEvents(logger, [limiter], { sheddingQuietMs: 30_000 });
   * ```
   */
  readonly sheddingQuietMs?: number;
  /**
   * Repeated warnings (a failing store behind a policy, a spent retry budget) are written at most this many times
   * per policy per minute; the next line says how many were left out.
   * @default 1
   * @example
   * ```ts
   * logPolicyEvents(logger, policies, { warningsPerMinute: 5 });
   * ```
   */
  readonly warningsPerMinute?: number;
}

const observed = new WeakMap<object, WeakMap<object, Subscription>>();

/**
 * Logs the state changes of policies, not their calls, at the level an operator needs:
 *
 * | what | level | `event` |
 * | --- | --- | --- |
 * | a circuit breaker opens or is isolated | warn | `ballast.circuit_state_change` |
 * | a circuit breaker half-opens or closes | info | `ballast.circuit_state_change` |
 * | a policy starts shedding load (first shed, or queue drop of a limiter) | warn | `ballast.load_shedding_started` |
 * | it has shed nothing for `sheddingQuietMs` | info | `ballast.load_shedding_stopped` (`shed`, `duration_ms`) |
 * | the store behind a policy fails (rate limited) | warn | `ballast.policy_store_error` (`fail_mode`, `err`) |
 * | a retry budget is spent (rate limited) | warn | `ballast.retry_budget_exhausted` |
 *
 * Every line has `policy` and `policy_kind`; with {@link traceLogMixin} it also carries the trace of the call that
 * caused it. Opt-in: nothing is logged for a policy not passed here. Logging never throws into the policy.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { logPolicyEvents, traceLogMixin } from '@ballast/telemetry';
 * const logger = pino({ mixin: traceLogMixin });
 * const sub = logPolicyEvents(logger, [paymentBreaker, ingressLimiter]);
 * // later: sub.dispose();
 * ```
 */
export function logPolicyEvents(
  logger: LoggerLike,
  policies: Iterable<PolicyLike>,
  options: PolicyLogOptions = {},
): Subscription {
  const clock = options.clock ?? systemClock;
  const quietMs = checkNumber('sheddingQuietMs', options.sheddingQuietMs, 10_000, { above: 0 });
  const perWindow = checkNumber('warningsPerMinute', options.warningsPerMinute, 1, { integer: true, min: 1 });
  const limited = rateLimitedLogger(logger, { clock, windowMs: 60_000, perWindow });
  let perLogger = observed.get(logger);
  if (!perLogger) observed.set(logger, (perLogger = new WeakMap()));
  const subs: Subscription[] = [];
  for (const policy of policies) {
    const existing = perLogger.get(policy);
    if (existing) {
      subs.push(existing);
      continue;
    }
    const sub = logOne(logger, limited, policy, clock, quietMs);
    const table = perLogger;
    const entry = {
      dispose: () => {
        sub.dispose();
        table.delete(policy);
      },
    };
    table.set(policy, entry);
    subs.push(entry);
  }
  return combine(subs);
}

function logOne(
  logger: LoggerLike,
  limited: ReturnType<typeof rateLimitedLogger>,
  policy: PolicyLike,
  clock: Clock,
  quietMs: number,
): Subscription {
  const base = { policy: policy.name, policy_kind: policy.kind };
  let episode: { startedAt: number; lastAt: number; shed: number; timer: TimerHandle } | undefined;

  const endEpisodeWhenQuiet = (): void => {
    if (episode === undefined) return;
    const quietFor = clock.now() - episode.lastAt;
    if (quietFor < quietMs) {
      episode.timer = clock.setTimeout(endEpisodeWhenQuiet, quietMs - quietFor);
      return;
    }
    const { shed, startedAt, lastAt } = episode;
    episode = undefined;
    write(
      'info',
      { ...base, event: 'ballast.load_shedding_stopped', shed, duration_ms: lastAt - startedAt },
      `${policy.name}: load shedding stopped after ${shed} shed call(s)`,
    );
  };

  const write = (level: 'warn' | 'info', fields: object, message: string): void => {
    try {
      logger[level](fields, message);
    } catch (error) {
      reportError(error, `logging a ${policy.kind} event`);
    }
  };

  const onEvent = (event: PolicyEvent): void => {
    switch (event.type) {
      case 'state-change': {
        const serious = event.to === 'open' || event.to === 'isolated';
        write(
          serious ? 'warn' : 'info',
          { ...base, event: 'ballast.circuit_state_change', from: event.from, to: event.to },
          `${policy.name}: circuit breaker ${event.from} -> ${event.to}`,
        );
        return;
      }
      case 'rejected': {
        const shed =
          event.reason === 'shed' ||
          (policy.kind === 'concurrency-limiter' && event.reason === 'queue-timeout');
        if (!shed) return;
        const now = clock.now();
        if (episode !== undefined) {
          episode.shed++;
          episode.lastAt = now;
          return;
        }
        episode = {
          startedAt: now,
          lastAt: now,
          shed: 1,
          timer: clock.setTimeout(endEpisodeWhenQuiet, quietMs),
        };
        write(
          'warn',
          {
            ...base,
            event: 'ballast.load_shedding_started',
            reason: event.reason,
            priority: event.priority ?? 'default',
          },
          `${policy.name}: load shedding started`,
        );
        return;
      }
      case 'store-error':
        limited.warn(
          `store-error:${policy.name}`,
          {
            ...base,
            event: 'ballast.policy_store_error',
            fail_mode: event.failOpen ? 'open' : 'closed',
            err: event.error,
          },
          `${policy.name}: its store failed; failing ${event.failOpen ? 'open' : 'closed'}`,
        );
        return;
      case 'retry-budget-exhausted':
        limited.warn(
          `retry-budget:${policy.name}`,
          { ...base, event: 'ballast.retry_budget_exhausted' },
          `${policy.name}: retry budget spent; failures are not retried`,
        );
        return;
      default:
        return;
    }
  };

  const sub = policy.onEvent((event) => {
    try {
      onEvent(event);
    } catch (error) {
      reportError(error, `logging a ${policy.kind} event`);
    }
  });
  return {
    dispose() {
      sub.dispose();
      if (episode !== undefined) clock.clearTimeout(episode.timer);
      episode = undefined;
    },
  };
}
