/* eslint-disable @typescript-eslint/require-await -- operations written as users write them: `async () => 42` */
import {
  BulkheadPolicy,
  ChaosPolicy,
  CircuitBreakerPolicy,
  ConsecutiveBreaker,
  Deadline,
  ExponentialBackoff,
  FallbackPolicy,
  type Pipeline,
  RateLimiter,
  type RateLimitDecision,
  RetryPolicy,
  TimeoutPolicy,
  isTimeoutError,
  pipeline,
} from '@ballast/resilience';
import { exactly } from './expect.js';

export async function resilience(): Promise<void> {
  const retry = new RetryPolicy({ maxAttempts: 3, backoff: new ExponentialBackoff({ baseMs: 50 }) });
  const timeout = new TimeoutPolicy({ timeoutMs: 500 });
  const breaker = new CircuitBreakerPolicy({ breaker: new ConsecutiveBreaker({ threshold: 5 }) });
  const bulkhead = new BulkheadPolicy({ limit: 10, maxQueued: 20 });

  // Each policy alone returns exactly what the operation returns.
  exactly<number>()(await retry.execute(async () => 42));
  exactly<string>()(await timeout.execute(({ signal }) => (signal.aborted ? 'late' : 'on time')));
  exactly<boolean>()(await breaker.execute(() => true));
  exactly<{ id: string }>()(await bulkhead.execute(async () => ({ id: 'a' })));

  // Pipelines of policies without fallbacks: the operation's type, not `| undefined`.
  const guarded = pipeline(retry, timeout);
  exactly<Pipeline<never>>()(guarded);
  exactly<number>()(await guarded.execute(async () => 42));
  exactly<string[]>()(await pipeline(retry, breaker, bulkhead, timeout).execute(() => ['a']));
  exactly<number>()(await pipeline(pipeline(retry), pipeline(timeout)).execute(() => 1));

  // Fallbacks and chaos results widen the result by exactly their own type.
  const cached = new FallbackPolicy({ fallback: () => 'cached' as const });
  exactly<number | 'cached'>()(await pipeline(cached, retry, timeout).execute(async () => 42));
  const nothing = new FallbackPolicy({ fallback: () => undefined });
  exactly<number | undefined>()(await pipeline(nothing, retry).execute(async () => 42));
  const chaos = new ChaosPolicy({ fault: { kind: 'result', value: -1 } });
  exactly<number>()(await pipeline(retry, chaos).execute(() => 7));
  const latency = new ChaosPolicy({ fault: { kind: 'latency', ms: 100 } });
  exactly<string>()(await pipeline(retry, latency).execute(() => 'x'));

  const deadline = Deadline.after(800);
  exactly<AbortSignal>()(deadline.signal);
  exactly<number>()(deadline.remainingMs());
  exactly<Deadline>()(deadline.within(300));

  const limiter = new RateLimiter({ rule: { limit: 100, periodMs: 60_000 } });
  exactly<RateLimitDecision>()(await limiter.consume('tenant-42'));

  const error: unknown = new Error('x');
  if (isTimeoutError(error)) exactly<number>()(error.timeoutMs);
}
