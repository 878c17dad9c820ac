import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import type { Clock } from '@ballast/core';
import { SloEngine, loadSlos, type Slo, type SloStatus } from '@ballast/slo';
import type { BudgetPolicyState } from '../flags/flags.js';
import {
  OUTBOX_THRESHOLD_MS,
  SLO,
  sloRecorder,
  trackSloRequest,
  type SloResponse,
} from '../ops/slo-recorder.js';
import type { SloReport, SloStatusView } from '../ops/slo-view.js';

/** Where RetailFlow's SLOs are declared (the same relative path works from `src/` and `dist/`). */
export const SLO_SPEC_URL = new URL('../../slo/retailflow.yaml', import.meta.url);

/** The SLOs of a running RetailFlow: the engine, fed live, and the views the API serves. */
export interface RetailFlowSlos {
  readonly engine: SloEngine;
  /** Middleware that records checkout and catalog requests. */
  readonly recorder: RequestHandler;
  /** Records one checkout or catalog request when `res` ends (for requests refused before express). */
  track(which: 'checkout' | 'catalog', res: SloResponse): void;
  /** Records one delivered order event with its outbox lag. */
  recordDelivery(lagMs: number): void;
  /** The budget policy state of one SLO (`undefined` for an unknown name). */
  policy(slo: string): BudgetPolicyState | undefined;
  report(): SloReport;
  close(): void;
}

function view(s: SloStatus): SloStatusView {
  const burnRates: Record<string, number> = {};
  for (const b of s.burnRates) burnRates[b.window] = b.rate;
  return {
    name: s.slo,
    displayName: s.displayName,
    objective: s.objective,
    sli: s.sli,
    errorBudgetRemaining: s.errorBudget.remainingRatio,
    policy: s.policy,
    burnRates,
  };
}

/**
 * Loads `slo/retailflow.yaml` into an in-process {@link SloEngine} on `clock`, and returns the recorder middleware
 * and views. Tests drive the engine's clock to exhaust and recover budgets without waiting.
 */
export async function createSlos(options: {
  clock: Clock;
  service: string;
  slos?: readonly Slo[];
}): Promise<RetailFlowSlos> {
  const slos = options.slos ?? (await loadSlos([fileURLToPath(SLO_SPEC_URL)]));
  const engine = new SloEngine({ slos, clock: options.clock });
  const names = new Set(slos.map((s) => s.name));
  const sink = (slo: string, good: boolean) => engine.recordEvent(slo, good);
  return {
    engine,
    recorder: sloRecorder(options.clock, sink),
    track: (which, res) => trackSloRequest(options.clock, sink, which, res),
    recordDelivery(lagMs) {
      engine.recordEvent(SLO.outbox, lagMs <= OUTBOX_THRESHOLD_MS);
    },
    policy: (slo) => (names.has(slo) ? engine.policy(slo) : undefined),
    report: () => ({ service: options.service, slos: engine.statusAll().map(view) }),
    close: () => engine.close(),
  };
}
