import type { Clock } from '@ballast/core';
import { CircuitBreakerPolicy, type CircuitBreakerSnapshot, presets } from '@ballast/resilience';

/**
 * Keeps a breaker's state across restarts, so a process that restarts during an outage does not send a fresh
 * burst of traffic to a dependency that is still down. Any key-value store works; here it is a Map.
 */
export function persistentBreaker(
  store: Map<string, string>,
  name: string,
  clock?: Clock,
): CircuitBreakerPolicy {
  const saved = store.get(`breaker:${name}`);
  const breaker = presets.database({
    name,
    ...(clock ? { clock } : {}),
    ...(saved ? { state: JSON.parse(saved) as CircuitBreakerSnapshot } : {}),
  });
  breaker.onEvent((event) => {
    if (event.type === 'state-change') store.set(`breaker:${name}`, JSON.stringify(breaker));
  });
  return breaker;
}

export { CircuitBreakerPolicy };
