import type { LimiterPermit } from '@ballast/resilience';
import type { LoadSheddingMode } from '../config.js';
import type { IngressGate } from '../http/front-door.js';

/** The permit of a baseline gate: nothing to learn from how the request ends. */
const NO_PERMIT: LimiterPermit = {
  priority: 'default',
  success: () => undefined,
  dropped: () => undefined,
  ignore: () => undefined,
};

/**
 * The ingress protections Ballast's adaptive shedding is measured against by the proof (`LOAD_SHEDDING`):
 * `none` admits everything, `toobusy` is toobusy-js, the popular event-loop-lag shedder. Both sit at the same front
 * door as Ballast's limiter and answer the same 503 problem, so the modes differ only in when they shed. Not for
 * production use.
 */
export async function baselineGate(mode: Exclude<LoadSheddingMode, 'ballast'>): Promise<IngressGate> {
  const admitted = Promise.resolve(NO_PERMIT);
  if (mode === 'none') return { acquire: () => admitted };
  const { default: toobusy } = await import('toobusy-js');
  return {
    // Decided once per request, before authentication (where the front door asks Ballast's admission signal).
    screen: () => !toobusy(),
    acquire: () => admitted,
  };
}
