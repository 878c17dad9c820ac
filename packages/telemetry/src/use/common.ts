import type { Subscription } from '@ballast/core';
import type { MetricsRegistry } from '../metrics-registry.js';

/** The `policy` label for a policy name, bounded by the cardinality guard (one cap shared by all policy metrics). */
export function policyLabel(metrics: MetricsRegistry, name: string): string {
  return metrics.label('ballast_policy', 'policy', String(name));
}

/** One subscription that disposes several. */
export function combine(subs: readonly Subscription[]): Subscription {
  let disposed = false;
  return {
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const sub of subs) sub.dispose();
    },
  };
}
