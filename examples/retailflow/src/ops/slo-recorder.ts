import type { Request, RequestHandler } from 'express';
import { reportError, type Clock } from '@ballast/core';
import { matchRoute, type RouteSlo } from '../http/route-table.js';

/** Names of RetailFlow's SLOs in `slo/retailflow.yaml`. */
export const SLO = {
  checkout: 'checkout-availability',
  catalog: 'catalog-latency',
  outbox: 'order-event-freshness',
} as const;

/**
 * Latency threshold of the catalog-latency SLO: its bucket `le="0.25"`, a boundary of the semconv request-duration
 * buckets, so Prometheus can count it exactly. @default 250
 */
export const CATALOG_THRESHOLD_MS = 250;

/** Freshness threshold of the order-event-freshness SLO (its bucket `le="30"`). @default 30000 */
export const OUTBOX_THRESHOLD_MS = 30_000;

/** Receives one good or bad event for an SLO (the engine's `record`). */
export type SloSink = (slo: string, good: boolean) => void;

/** Which SLO an API request (path relative to `/api/v1`) counts towards, if any, as the route table says. */
export function sloOfRequest(req: Pick<Request, 'method' | 'path'>): RouteSlo | undefined {
  return matchRoute(req.method, req.path)?.slo;
}

/** The part of a response {@link trackSloRequest} reads. */
export interface SloResponse {
  readonly statusCode: number;
  readonly writableFinished: boolean;
  readonly headersSent: boolean;
  once(event: 'finish' | 'close', listener: () => void): unknown;
}

/**
 * Records one request of `which` SLO when its response ends (see {@link sloRecorder} for the definitions). Used by
 * the recorder middleware, and by the front door for requests it refuses before express sees them.
 */
export function trackSloRequest(
  clock: Clock,
  sink: SloSink,
  which: 'checkout' | 'catalog',
  res: SloResponse,
): void {
  const started = clock.now();
  let done = false;
  const finish = (completed: boolean) => {
    if (done) return;
    done = true;
    try {
      // As Prometheus sees it (RED records a request once, at its end, with the status sent if any): a request
      // the client abandoned is bad only if a 5xx had already been sent, or (catalog) it lasted past the threshold.
      const serverError = (completed || res.headersSent) && res.statusCode >= 500;
      if (which === 'checkout') sink(SLO.checkout, !serverError);
      else sink(SLO.catalog, clock.now() - started <= CATALOG_THRESHOLD_MS);
    } catch (error) {
      reportError(error, 'retailflow: SLO recording failed');
    }
  };
  res.once('finish', () => finish(true));
  res.once('close', () => finish(res.writableFinished));
}

/**
 * Feeds the in-process SLO engine from live traffic, with the same definitions the Prometheus rules use, on the
 * same requests: a checkout is good unless it answered 5xx (shed and draining answers are 503, so they count as
 * bad; 401, 429 and other client errors are good); a catalog read is good when it ended within
 * {@link CATALOG_THRESHOLD_MS}. A request the client abandoned counts as Prometheus counts it: by the status
 * already sent (none: good) and, for the catalog, by how long it lasted; a client cannot burn the shared budget
 * by hanging up. Only the exact, case-sensitive routes count (`/API/V1/ORDERS` is a 404 for both).
 * Recording never throws into the request path.
 */
export function sloRecorder(clock: Clock, sink: SloSink): RequestHandler {
  return (req, res, next) => {
    const which = sloOfRequest(req);
    if (which !== undefined) trackSloRequest(clock, sink, which, res);
    next();
  };
}
