import { fileURLToPath } from 'node:url';
import type { RequestHandler } from 'express';
import { reportError, type Clock, type TimerHandle } from '@ballast/core';
import {
  PrometheusBackend,
  SloEngine,
  loadSlos,
  persistSloEngine,
  type Slo,
  type SloPersistence,
  type SloSnapshotStore,
  type SloStatus,
} from '@ballast/slo';
import type { BudgetPolicyState } from '../flags/flags.js';
import {
  OUTBOX_THRESHOLD_MS,
  SLO,
  sloRecorder,
  trackSloRequest,
  type SloResponse,
} from '../ops/slo-recorder.js';
import type { SloReport, SloSourceView, SloStatusView } from '../ops/slo-view.js';

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
  /**
   * The budget policy state of one SLO (`undefined` for an unknown name): the fleet's, from Prometheus, when
   * `PROMETHEUS_URL` is set and Prometheus answered recently; this instance's engine otherwise.
   */
  policy(slo: string): BudgetPolicyState | undefined;
  /** Where {@link policy} and {@link report} read from now, and why. */
  source(): SloSourceView;
  /** Reads the fleet's view from Prometheus now (the timer does it every `refreshMs`); never rejects. */
  refresh(): Promise<void>;
  /** The engine's persistence (snapshots of its state), when a store was given. */
  readonly persistence: SloPersistence | undefined;
  report(): SloReport;
  /** Stops the timers and saves a last snapshot of the engine. */
  close(): Promise<void>;
}

/** Where the fleet's view comes from (see {@link createSlos}). */
export interface PrometheusSloSource {
  /** Base URL of the Prometheus HTTP API (`PROMETHEUS_URL`). */
  readonly url: string;
  /** How often the fleet's view is read. @default 15_000 */
  readonly refreshMs?: number;
  /** Per-query timeout. @default 2_000 */
  readonly timeoutMs?: number;
  /** A view older than this is not used: the local engine decides until Prometheus answers again. @default 3 x refreshMs */
  readonly staleAfterMs?: number;
  /** @default globalThis.fetch */
  readonly fetch?: typeof fetch;
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

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Loads `slo/retailflow.yaml` into an in-process {@link SloEngine} on `clock`, and returns the recorder middleware
 * and views. Tests drive the engine's clock to exhaust and recover budgets without waiting.
 *
 * With `snapshots`, the engine's state is restored from the store at start and saved every `snapshotEveryMs` and
 * on close, so a restart keeps the budget spent. With `prometheus`, the budget policy (and so the flags) and the
 * report follow the fleet's view read from Prometheus every `refreshMs` (every replica decides alike); while
 * Prometheus does not answer, or its last answer is older than `staleAfterMs`, they fall back to this instance's
 * engine, and {@link RetailFlowSlos.source} says so and why.
 */
export async function createSlos(options: {
  clock: Clock;
  service: string;
  slos?: readonly Slo[];
  snapshots?: SloSnapshotStore;
  /** @default 60_000 */
  snapshotEveryMs?: number;
  prometheus?: PrometheusSloSource;
}): Promise<RetailFlowSlos> {
  const { clock } = options;
  const slos = options.slos ?? (await loadSlos([fileURLToPath(SLO_SPEC_URL)]));
  const engine = new SloEngine({ slos, clock });
  const names = new Set(slos.map((s) => s.name));
  const sink = (slo: string, good: boolean) => engine.recordEvent(slo, good);
  const persistence = options.snapshots
    ? await persistSloEngine(engine, {
        store: options.snapshots,
        clock,
        everyMs: options.snapshotEveryMs ?? 60_000,
      })
    : undefined;

  const prom = options.prometheus;
  const refreshMs = prom?.refreshMs ?? 15_000;
  const staleAfterMs = prom?.staleAfterMs ?? 3 * refreshMs;
  const backend = prom
    ? new PrometheusBackend(slos, {
        url: prom.url,
        clock,
        timeoutMs: prom.timeoutMs ?? 2_000,
        ...(prom.fetch ? { fetch: prom.fetch } : {}),
      })
    : undefined;
  let fleet: { at: number; statuses: Map<string, SloStatus> } | undefined;
  let lastError: string | undefined = prom ? 'not read yet' : undefined;
  let inFlight: Promise<void> | undefined;
  const refresh = (): Promise<void> => {
    if (!backend) return Promise.resolve();
    inFlight ??= (async () => {
      try {
        const statuses = await backend.statusAll();
        fleet = { at: clock.now(), statuses: new Map(statuses.map((s) => [s.slo, s])) };
        lastError = undefined;
      } catch (error) {
        lastError = message(error);
      } finally {
        inFlight = undefined;
      }
    })();
    return inFlight;
  };
  const current = (): Map<string, SloStatus> | undefined =>
    fleet && clock.now() - fleet.at <= staleAfterMs ? fleet.statuses : undefined;
  const source = (): SloSourceView => {
    const persisted = persistence ? { state: persistence.state.detail } : {};
    if (!prom) {
      return { kind: 'local', reason: "PROMETHEUS_URL is not set: this instance's engine", ...persisted };
    }
    const readAt = fleet ? { readAt: new Date(fleet.at).toISOString() } : {};
    if (current()) {
      const failing =
        lastError === undefined
          ? ''
          : `; the last read failed (${lastError}): this instance's engine decides once the view is older than ${staleAfterMs} ms`;
      return {
        kind: 'prometheus',
        reason: `the fleet's view from ${prom.url}${failing}`,
        ...readAt,
        ...persisted,
      };
    }
    const why = lastError ?? `its last answer is older than ${staleAfterMs} ms`;
    return {
      kind: 'local-fallback',
      reason: `Prometheus at ${prom.url} is not answering (${why}): this instance's engine decides meanwhile`,
      ...readAt,
      ...persisted,
    };
  };

  let timer: TimerHandle | undefined;
  let closed = false;
  const schedule = () => {
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        void refresh().finally(() => {
          if (!closed) schedule();
        });
      },
      refreshMs,
      { ref: false },
    );
  };
  if (backend) {
    await refresh(); // decide from the fleet's view from the first request when Prometheus answers
    schedule();
  }

  return {
    engine,
    recorder: sloRecorder(clock, sink),
    track: (which, res) => trackSloRequest(clock, sink, which, res),
    recordDelivery(lagMs) {
      engine.recordEvent(SLO.outbox, lagMs <= OUTBOX_THRESHOLD_MS);
    },
    policy(slo) {
      if (!names.has(slo)) return undefined;
      const fromFleet = current()?.get(slo);
      if (fromFleet) return fromFleet.policy;
      try {
        return engine.policy(slo);
      } catch (error) {
        reportError(error, 'retailflow: SLO policy');
        return undefined;
      }
    },
    source,
    refresh,
    persistence,
    report() {
      const fromFleet = current();
      const statuses = fromFleet ? slos.map((s) => fromFleet.get(s.name)!) : engine.statusAll();
      return { service: options.service, source: source(), slos: statuses.map(view) };
    },
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      engine.close();
      await inFlight;
      await persistence?.close();
    },
  };
}
