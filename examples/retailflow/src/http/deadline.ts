import type { RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import { DEADLINE_HEADER, readDeadlineHeader } from '@ballast/resilience';
import { contextOf } from './context.js';

/**
 * Gives every request a deadline: `budgetMs` from arrival, or less when the caller sends its own remaining budget
 * in `x-request-deadline-ms` (capped at `budgetMs`). Outbound calls receive what is left of it, so work for a
 * caller that has given up stops. Released when the response closes.
 */
export function requestDeadline(clock: Clock, budgetMs: number): RequestHandler {
  return (req, res, next) => {
    const deadline = readDeadlineHeader(req.headers, {
      clock,
      defaultMs: budgetMs,
      maxMs: budgetMs,
      header: DEADLINE_HEADER,
    });
    if (deadline) {
      contextOf(req).deadline = deadline;
      res.once('close', () => deadline.dispose());
    }
    next();
  };
}
