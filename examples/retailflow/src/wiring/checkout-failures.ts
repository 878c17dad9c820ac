import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Request, RequestHandler, Response } from 'express';
import type { Logger } from 'pino';
import { reportError, type Clock } from '@ballast/core';
import { rateLimitedLogger, routeOf } from '@ballast/telemetry';
import { contextOf } from '../http/context.js';

/** The route whose failures are logged: the checkout. */
const CHECKOUT_ROUTE = '/api/v1/orders';

/** Reasons the checkout handler knows and the answer does not say (the order's `statusReason`). */
const reasons = new WeakMap<object, string>();

/**
 * Records why a checkout failed (the order's `statusReason`: `unavailable: BrokenCircuitError: ...`), for the
 * failed-checkout log line written when the answer ends. The answer itself keeps the reason to operators.
 *
 * @example
 * ```ts
 * noteCheckoutFailure(res, order.statusReason ?? 'payment failed');
 * ```
 */
export function noteCheckoutFailure(res: ServerResponse, reason: string): void {
  reasons.set(res, reason);
}

/** The problem type of a problem+json body (its last path segment), or undefined. */
function problemType(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const type = (JSON.parse(body) as { type?: unknown }).type;
    return typeof type === 'string' ? (type.split('/').pop() ?? type) : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@link checkoutFailureLog}. */
export interface CheckoutFailureLogOptions {
  readonly logger: Pick<Logger, 'error' | 'warn' | 'info' | 'debug'>;
  readonly clock: Clock;
  /** Lines per reason per minute. @default 20 */
  readonly perMinute?: number;
}

/**
 * One warning per failed checkout (a 5xx, or 402 declined), wherever it was answered: by the front door (shed,
 * `overloaded`), by express (`payment-unavailable`, `deadline-exceeded`, a full bulkhead). The line carries the
 * tenant (when it authenticated), the HTTP status, the problem type as `reason`, the order's own `statusReason`
 * as `detail` when the handler noted one, the order id, and through the logger's mixin the request's `trace_id`:
 * `jq 'select(.msg == "checkout failed")'` over the log finds them, and the trace id joins an exemplar from the
 * dashboards to its line. Rate limited per reason (`perMinute` lines a minute; the next line in a new minute
 * carries `suppressed`, the lines lost), so an outage writes a few lines a minute, not one per request.
 * Instrumentation: it never throws into the request.
 *
 * @example
 * ```ts
 * const failures = checkoutFailureLog({ logger, clock });
 * frontDoor(app, { instrumentation: [...telemetry.middleware, failures], ... });
 * ```
 */
export function checkoutFailureLog(options: CheckoutFailureLogOptions): RequestHandler {
  const limited = rateLimitedLogger(options.logger, {
    clock: options.clock,
    perWindow: options.perMinute ?? 20,
    windowMs: 60_000,
  });
  return (req: Request | IncomingMessage, res: Response | ServerResponse, next: () => void) => {
    if (req.method !== 'POST' || !(req.url ?? '').startsWith(CHECKOUT_ROUTE)) {
      next();
      return;
    }
    let body: string | undefined;
    try {
      // The answer's problem type: capture a small error body as it is written.
      const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
      (res as { end: unknown }).end = (...args: unknown[]) => {
        const chunk = args[0];
        if (
          res.statusCode >= 400 &&
          (typeof chunk === 'string' || Buffer.isBuffer(chunk)) &&
          chunk.length <= 8192
        ) {
          body = chunk.toString();
        }
        return end(...args);
      };
      res.once('finish', () => {
        try {
          const status = res.statusCode;
          if (status < 500 && status !== 402) return;
          if (routeOf(res) !== CHECKOUT_ROUTE) return;
          const reason = problemType(body) ?? `status-${status}`;
          const detail = reasons.get(res);
          const orderId = (() => {
            try {
              return (JSON.parse(body ?? '{}') as { orderId?: unknown }).orderId;
            } catch {
              return undefined;
            }
          })();
          limited.warn(
            `checkout-failed:${reason}`,
            {
              event: 'checkout.failed',
              tenant: contextOf(req).tenant?.id ?? null,
              status,
              reason,
              ...(detail === undefined ? {} : { detail }),
              ...(typeof orderId === 'string' ? { orderId } : {}),
            },
            'checkout failed',
          );
        } catch (error) {
          reportError(error, 'retailflow: logging a failed checkout');
        }
      });
    } catch (error) {
      reportError(error, 'retailflow: logging a failed checkout');
    }
    next();
  };
}
