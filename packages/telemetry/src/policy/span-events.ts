import type { PolicyEvent } from '@ballast/core';
import { activeSpan } from '../http/exemplar.js';

/**
 * Adds a span event for a policy decision to the active span (the caller's, since policies emit synchronously in
 * the call's context): `ballast.circuit_open` for breaker rejections, `ballast.load_shed` for sheds,
 * `ballast.rejected` for other rejections, `ballast.retry` and `ballast.retry_budget_exhausted`.
 */
export function addPolicySpanEvent(event: PolicyEvent): void {
  const span = activeSpan();
  if (span === undefined || !span.isRecording()) return;
  const base = { 'ballast.policy': event.policy, 'ballast.policy.kind': event.kind };
  switch (event.type) {
    case 'rejected': {
      const name =
        event.reason === 'circuit-open' ||
        event.reason === 'circuit-isolated' ||
        event.reason === 'half-open-full'
          ? 'ballast.circuit_open'
          : event.reason === 'shed'
            ? 'ballast.load_shed'
            : 'ballast.rejected';
      span.addEvent(name, {
        ...base,
        'ballast.rejection.reason': event.reason,
        ...(event.priority ? { 'ballast.priority': event.priority } : {}),
      });
      return;
    }
    case 'retry':
      span.addEvent('ballast.retry', {
        ...base,
        'ballast.retry.attempt': event.attempt,
        'ballast.retry.delay_ms': event.delayMs,
      });
      return;
    case 'retry-budget-exhausted':
      span.addEvent('ballast.retry_budget_exhausted', base);
      return;
    default:
      return;
  }
}
