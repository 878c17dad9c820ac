import type { RequestHandler } from 'express';
import type { LoadSheddingMode } from '../config.js';
import { problemBody } from './policies.js';

/**
 * The ingress protections Ballast's adaptive shedding is measured against by the proof (`LOAD_SHEDDING`):
 * `none` admits everything, `toobusy` is toobusy-js, the popular event-loop-lag shedder, answering 503 with the
 * same problem body as Ballast's shedding so the two differ only in when they shed. Not for production use.
 */
export async function baselineShedding(mode: Exclude<LoadSheddingMode, 'ballast'>): Promise<RequestHandler> {
  if (mode === 'none') return (_req, _res, next) => next();
  const { default: toobusy } = await import('toobusy-js');
  return (_req, res, next) => {
    if (!toobusy()) {
      next();
      return;
    }
    res
      .status(503)
      .set('Retry-After', '1')
      .type('application/problem+json')
      .send(
        JSON.stringify(
          problemBody(503, 'overloaded', 'Service overloaded', 'The service is shedding load; retry later', {
            shedBy: 'toobusy',
          }),
        ),
      );
  };
}
