import type { RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import { contextOf } from './context.js';

/** The header a caller may send to shorten the request's time budget (milliseconds). */
export const REQUEST_TIMEOUT_HEADER = 'x-request-timeout-ms';

/**
 * Gives every request a deadline: `budgetMs` from arrival, or less when the caller sends
 * `X-Request-Timeout-Ms` (its own remaining budget). The signal aborts when the budget runs out and is passed to
 * every outbound call, so work for a caller that has given up stops. The timer is cleared when the response ends.
 */
export function requestDeadline(clock: Clock, budgetMs: number): RequestHandler {
  return (req, res, next) => {
    const asked = Number(req.get(REQUEST_TIMEOUT_HEADER));
    const ms = Number.isFinite(asked) && asked > 0 ? Math.min(asked, budgetMs) : budgetMs;
    const controller = new AbortController();
    const timer = clock.setTimeout(() => {
      controller.abort(new DOMException(`request deadline of ${ms} ms exceeded`, 'TimeoutError'));
    }, ms);
    res.once('close', () => clock.clearTimeout(timer));
    contextOf(res).deadline = controller.signal;
    next();
  };
}
