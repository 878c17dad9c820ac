import type { AlertSpec } from './alert.js';
import { BallastCircuitBreakerStuckOpen } from './BallastCircuitBreakerStuckOpen.js';
import { BallastCriticalTrafficShed } from './BallastCriticalTrafficShed.js';
import { BallastEventLoopSaturated } from './BallastEventLoopSaturated.js';
import { BallastTenantRateLimitSpike } from './BallastTenantRateLimitSpike.js';
import { RetailFlowDeadLetterQueueNotEmpty } from './RetailFlowDeadLetterQueueNotEmpty.js';
import { RetailFlowOutboxLagHigh } from './RetailFlowOutboxLagHigh.js';

/** Every operational alert, in the order the rule file lists them. */
export const OPERATIONAL_ALERTS: readonly AlertSpec[] = [
  BallastCircuitBreakerStuckOpen,
  BallastCriticalTrafficShed,
  BallastTenantRateLimitSpike,
  BallastEventLoopSaturated,
  RetailFlowOutboxLagHigh,
  RetailFlowDeadLetterQueueNotEmpty,
];
