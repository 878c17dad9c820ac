import type { AlertSpec } from './alert.js';
import { BallastCircuitBreakerStuckOpen } from './BallastCircuitBreakerStuckOpen.js';
import { BallastCriticalTrafficShed } from './BallastCriticalTrafficShed.js';
import { BallastEventLoopSaturated } from './BallastEventLoopSaturated.js';
import { BallastTenantRateLimitSpike } from './BallastTenantRateLimitSpike.js';
import type { AlertContext } from './ops.js';

/** Every generic operational alert of a Ballast service, in the order the rule file lists them. */
export function operationalAlerts(context: AlertContext): AlertSpec[] {
  return [
    BallastCircuitBreakerStuckOpen(context),
    BallastCriticalTrafficShed(context),
    BallastTenantRateLimitSpike(context),
    BallastEventLoopSaturated(context),
  ];
}
