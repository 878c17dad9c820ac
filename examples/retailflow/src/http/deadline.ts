import type { RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import { DEADLINE_HEADER, readDeadlineHeader } from '@ballast/resilience';
import { contextOf } from './context.js';
import { invalidRequest } from './validation.js';

/**
 * Gives every request a deadline: `budgetMs` from arrival, or less when the caller sends its own remaining budget
 * in `x-request-deadline-ms` (capped at `budgetMs`). Outbound calls receive what is left of it, so work for a
 * caller that has given up stops. A caller budget below `minMs` is answered 400 before any work: a caller that
 * leaves no time to serve it gets told so, and cannot turn its own impatience into 503s and 504s counted
 * against the service's SLO. Released when the response closes.
 */
export function requestDeadline(clock: Clock, budgetMs: number, minMs = 0): RequestHandler {
  return (req, res, next) => {
    const raw = req.headers[DEADLINE_HEADER];
    if (typeof raw === 'string' && /^\s*\d+(\.\d+)?\s*$/.test(raw) && Number(raw) < minMs) {
      throw invalidRequest(`\`${DEADLINE_HEADER}\` must be at least ${minMs}`, [
        { path: `header/${DEADLINE_HEADER}`, message: `must be at least ${minMs} ms` },
      ]);
    }
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
