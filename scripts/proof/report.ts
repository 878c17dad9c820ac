import { lineChart } from './chart.js';
import type { DeploymentsResult } from './deployments.js';
import type { DisasterResult } from './disaster.js';
import type { DrillsResult } from './drills.js';
import type { FaultResult } from './faults.js';
import { gateMarkdown, type GateResult } from './gate.js';
import type { HostileResult } from './hostile.js';
import type { SecurityResult } from './security.js';
import type { MonetizationResult } from './monetization.js';
import type { OutageResult } from './outages.js';
import type { OverloadResult, SheddingMode } from './overload.js';

/** The machine's CPU over one phase of a proof run. */
export interface PhaseCpu {
  /** The sections of the phase, `+` between those side by side. */
  readonly phase: string;
  readonly wallSec: number;
  /** Core-seconds the machine spent busy (every process: the proof's, the services', anything else). */
  readonly busyCoreSec: number;
  /** `busyCoreSec` over what the cores could give in `wallSec` (1: every core busy throughout). */
  readonly busyShare: number;
}

/** Every figure of one proof run. */
export interface ProofFigures {
  readonly startedAt: string;
  readonly mode: 'real-services' | 'embedded';
  readonly quick: boolean;
  readonly machine: string;
  readonly durationSec: number;
  /** Each section's wall time in seconds (some sections run side by side: see scripts/proof/main.ts). */
  readonly sectionSec?: Readonly<Record<string, number>>;
  /**
   * How busy the machine's cores were during each phase of the run (sections side by side are one phase), from
   * `/proc/stat`: the core-seconds spent, and their share of what the cores could give over the phase's wall time.
   */
  readonly machineCpu?: readonly PhaseCpu[];
  readonly overload?: OverloadResult;
  readonly faults?: FaultResult;
  readonly outages?: OutageResult;
  readonly hostile?: HostileResult;
  readonly security?: SecurityResult;
  readonly monetization?: MonetizationResult;
  readonly deployments?: DeploymentsResult;
  readonly disaster?: DisasterResult;
  readonly drills?: DrillsResult;
  /** The gate's verdict over every section's goals. */
  readonly gate?: GateResult;
}

const MODES: Record<SheddingMode, string> = {
  ballast: 'Ballast adaptive shedding',
  none: 'no shedding',
  toobusy: 'toobusy-js (event-loop lag)',
};

function n(v: number | null | undefined, digits = 0): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}

function pct(v: number): string {
  return `${(v * 100).toFixed(0)}%`;
}

function verdict(met: boolean): string {
  return met ? 'met' : '**not met**';
}

/** The charts of a run, as self-contained SVG strings keyed by name. */
export function charts(f: ProofFigures): Record<string, string> {
  const out: Record<string, string> = {};
  const o = f.overload;
  if (o) {
    const modes = [...new Set(o.points.map((p) => p.mode))];
    out.goodput = lineChart({
      title: 'Goodput vs offered load',
      xLabel: 'offered load (x capacity)',
      yLabel: 'goodput (req/s)',
      series: modes.map((m) => ({
        name: m,
        points: o.points.filter((p) => p.mode === m).map((p) => [p.multiple, p.goodputRps] as const),
      })),
      reference: { y: o.capacityRps, label: `capacity ${n(o.capacityRps)}/s` },
    });
    out.checkouts = lineChart({
      title: 'Checkouts (critical) served vs offered load',
      xLabel: 'offered load (x capacity)',
      yLabel: 'checkouts/s within 1 s',
      series: modes.map((m) => ({
        name: m,
        points: o.points.filter((p) => p.mode === m).map((p) => [p.multiple, p.criticalGoodputRps] as const),
      })),
      reference: { y: o.perClass.checkoutsRps, label: `checkouts alone ${n(o.perClass.checkoutsRps)}/s` },
    });
    out.latency = lineChart({
      title: 'Admitted latency vs offered load',
      xLabel: 'offered load (x capacity)',
      yLabel: 'latency (ms)',
      series: modes.flatMap((m) => [
        { name: `${m} p50`, points: o.points.filter((p) => p.mode === m).map((p) => [p.multiple, p.p50] as const) },
        { name: `${m} p99`, points: o.points.filter((p) => p.mode === m).map((p) => [p.multiple, p.p99] as const) },
      ]),
    });
  }
  if (f.faults) {
    out.budget = lineChart({
      title: 'Checkout error budget over a payment fault',
      xLabel: 'seconds',
      yLabel: 'budget remaining (%)',
      series: [
        {
          name: 'budget left',
          points: f.faults.timeline
            .filter((t) => t.budgetRemaining !== null)
            .map((t) => [Math.round(t.t), (t.budgetRemaining ?? 0) * 100] as const),
        },
        { name: 'failed/s', points: f.faults.timeline.map((t) => [Math.round(t.t), t.failed] as const) },
      ],
    });
  }
  if (f.outages) {
    out.outbox = lineChart({
      title: 'Outbox depth over a broker outage',
      xLabel: 'seconds',
      yLabel: 'unpublished events',
      series: [{ name: 'outbox depth', points: f.outages.brokerTimeline.map((p) => [Math.round(p.t), p.depth] as const) }],
    });
  }
  return out;
}

/** The Markdown report. */
export function markdown(f: ProofFigures): string {
  const lines: string[] = [
    '# Ballast proof: RetailFlow under overload, faults, outages and hostile input',
    '',
    `Run ${f.startedAt} on ${f.machine}, ${f.mode === 'embedded' ? 'embedded stores (SQLite, in-process broker, in-memory limits)' : 'real PostgreSQL, Redis and RabbitMQ'}` +
      `${f.quick ? ', quick mode (short steps: figures are noisier)' : ''}; took ${n(f.durationSec)} s` +
      `${f.sectionSec ? ` (${Object.entries(f.sectionSec).map(([k, v]) => `${k} ${v} s`).join(', ')}; outages beside disaster, drills beside faults, security and monetization)` : ''}` +
      `${f.machineCpu && f.machineCpu.length > 0 ? `; the cores were busy ${f.machineCpu.map((p) => `${(p.busyShare * 100).toFixed(0)}% in ${p.phase}`).join(', ')}` : ''}. ` +
      'Every figure below was measured in this run; each baseline ran in the same run. Goals not met are marked.',
    '',
    ...(f.gate ? [gateMarkdown(f.gate), ''] : []),
  ];
  const o = f.overload;
  if (o) {
    const at = (m: SheddingMode, x: number) => o.points.find((p) => p.mode === m && p.multiple === x);
    const excluded = o.ramp.filter((p) => !p.counts);
    lines.push(
      '## 1. Overload',
      '',
      `Capacity (closed-loop ramp of the mix on the service without shedding, best goodput while at most 1% of answers were refusals): **${n(o.capacityRps)} req/s**, knee at ${o.kneeConnections} connections. ` +
        `Unloaded p99 (0.2x capacity): ${n(o.unloadedP99, 1)} ms. Mix: one checkout (critical) in three requests, the rest catalog reads (sheddable); ` +
        'goodput counts 2xx answered within 1 s. Each mode runs on a fresh service process and a freshly created database.',
      '',
      '| ramp connections | goodput/s | p99 ms | refused | counts for capacity |',
      '| --- | --- | --- | --- | --- |',
      ...o.ramp.map(
        (p) => `| ${p.connections} | ${n(p.goodputRps)} | ${n(p.p99, 1)} | ${pct(p.refusedShare)} | ${p.counts ? 'yes' : 'no'} |`,
      ),
      '',
      ...(excluded.length > 0
        ? [
            `From ${excluded[0]!.connections} connections on, the service refuses checkouts in a millisecond when its inventory bulkhead is full, each connection then cycles through cheap catalog reads, and goodput climbs while the service serves less of what it is asked: those points do not set the capacity.`,
            '',
          ]
        : []),
      '| mode | load | goodput/s | % of capacity | checkouts/s | reads/s | p50 ms | p99 ms | critical served | sheddable served |',
      '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
      ...o.points.map(
        (p) =>
          `| ${MODES[p.mode]} | ${p.multiple}x | ${n(p.goodputRps)} | ${pct(p.goodputOfCapacity)} | ${n(p.criticalGoodputRps)} | ${n(p.sheddableGoodputRps)} | ${n(p.p50, 1)} | ${n(p.p99, 1)} | ${pct(p.criticalServed)} | ${pct(p.sheddableServed)} |`,
      ),
      '',
      `Pinning: ${o.pinning.length > 0 ? o.pinning.join('; ') : 'none'}. The tables above are the first pinned run; the goals are the medians of the pinned runs (spread: min–max).`,
      '',
      ...(o.summary.pinned.aloneDrift !== undefined && o.summary.pinned.aloneDrift.runs > 0
        ? [
            `Checkouts alone are measured twice in a run, before Ballast's steps and after them, and the goals divide by the mean of the two: the machine's speed moves while a run lasts (\`aloneDrift\`, the second over the first: median ${pct(o.summary.pinned.aloneDrift.median)}, ${pct(o.summary.pinned.aloneDrift.min)} to ${pct(o.summary.pinned.aloneDrift.max)}).`,
            '',
          ]
        : []),
      '| figure | pinned median (min–max, runs) | unpinned median (min–max, runs) |',
      '| --- | --- | --- |',
      ...Object.keys(o.summary.pinned).map((key) => {
        const cell = (s: { median: number; min: number; max: number; runs: number } | undefined) =>
          s === undefined || s.runs === 0 ? '–' : `${n(s.median, 3)} (${n(s.min, 3)}–${n(s.max, 3)}, ${s.runs})`;
        return `| ${key} | ${cell(o.summary.pinned[key])} | ${cell(o.summary.unpinned[key])} |`;
      }),
      '',
      'Goals at 4x (medians):',
      `- checkout goodput ≥ 90% of checkouts served alone: ${pct(o.goals.criticalGoodputAt4x.value)} — ${verdict(o.goals.criticalGoodputAt4x.met)}`,
      `- cost-weighted goodput ≥ 90% of capacity and above both baselines (${Object.entries(o.goals.costWeightedGoodputAt4x.baselines).map(([m, v]) => `${m} ${pct(v ?? Number.NaN)}`).join(', ')}): ${pct(o.goals.costWeightedGoodputAt4x.value)} — ${verdict(o.goals.costWeightedGoodputAt4x.met)}`,
      `- sheddable served ≥ 99% at 1x: ${pct(o.goals.sheddableServedAt1x.value)} — ${verdict(o.goals.sheddableServedAt1x.met)}`,
      `- admitted checkout p99 ≤ 2x unloaded (${n(o.goals.p99At4x.goal, 1)} ms): ${n(o.goals.p99At4x.value, 1)} ms — ${verdict(o.goals.p99At4x.met)}`,
      `- a tenant within its plan keeps ≥ 90% of its checkout goodput while another floods: ${pct(o.goals.tenantFairness.value)} — ${verdict(o.goals.tenantFairness.met)}`,
      `- critical served before sheddable: ${pct(o.goals.criticalFirst.value)} vs ${pct(o.goals.criticalFirst.goal)} — ${verdict(o.goals.criticalFirst.met)}`,
      '',
    );
    const ballast4 = at('ballast', 4);
    const none4 = at('none', 4);
    const busy4 = at('toobusy', 4);
    if (ballast4 && none4 && busy4) {
      lines.push(
        `Baselines at 4x: no shedding ${pct(none4.goodputOfCapacity)} of capacity, ${n(none4.criticalGoodputRps)} checkouts/s, p99 ${n(none4.p99, 1)} ms; ` +
          `toobusy-js ${pct(busy4.goodputOfCapacity)}, ${n(busy4.criticalGoodputRps)} checkouts/s, p99 ${n(busy4.p99, 1)} ms. ` +
          `Ballast: ${n(ballast4.criticalGoodputRps)} checkouts/s, p99 ${n(ballast4.p99, 1)} ms.`,
        '',
        `How to read it. Alone, the service serves ${n(o.perClass.checkoutsRps)} checkouts/s or ${n(o.perClass.readsRps)} catalog reads/s: a checkout costs about ${n(o.perClass.checkoutCostInReads)} reads, ` +
          `and at 4x the checkouts alone (${n((4 * o.capacityRps) / 3)}/s) ask for more than the service can serve of them. ` +
          `Serving critical work first therefore means serving few reads, and goodput counted in requests falls: each checkout served displaces some ${n(o.perClass.checkoutCostInReads)} reads. ` +
          'The baselines keep their request goodput by serving the cheap reads and refusing or timing out the checkouts. ' +
          'The goodput goal and the critical-first goal cannot both be met at 4x unless checkouts and reads are served in the same proportion, which is not priority.',
        '',
      );
    }
    const cpu = (key: string) => o.summary.pinned[key] ?? o.summary.unpinned[key];
    const cores = cpu('cpuAtTop.cores');
    if (cores !== undefined && cores.runs > 0) {
      const c = (key: string) => n(cpu(key)?.median ?? Number.NaN, 2);
      lines.push(
        `Where the service's CPU goes at 4x (medians of the ${o.summary.pinned['cpuAtTop.cores']?.runs ? 'pinned' : 'unpinned'} runs, in cores, from the process's \`process_cpu_seconds_total\`): ` +
          `${c('cpuAtTop.cores')} in all; the checkouts it answered 2xx ${c('cpuAtTop.checkouts')} and the reads ${c('cpuAtTop.reads')} (late answers too: work done, though not goodput past 1 s), each priced at its CPU alone ` +
          `(${n(o.perClass.checkoutCpuMs, 2)} ms a checkout, ${n(o.perClass.readCpuMs, 3)} ms a read in the first run); the rest ${c('cpuAtTop.rest')}: ` +
          `refusals, checkouts that waited at the door and timed out, and what serving costs more under load than alone, ` +
          `about ${n(cpu('cpuAtTop.restPerRefusalUs')?.median ?? Number.NaN)} µs a refusal if it were refusals only. ` +
          `Serving checkouts alone (closed loop at the knee, at least 8 connections), the service used ${c('checkoutsAloneCores')} cores and their p99 was ${n(cpu('checkoutsAloneP99')?.median ?? Number.NaN)} ms, ` +
          `against ${n(o.goals.p99At4x.goal / 2, 1)} ms unloaded.`,
        '',
      );
    }
    lines.push('![goodput](goodput.svg)', '', '![checkouts](checkouts.svg)', '', '![latency](latency.svg)', '');
  }
  const d = f.faults;
  if (d) {
    lines.push(
      '## 2. Dependency faults',
      '',
      'Steady checkouts; the payment provider gets 10x slower, then fails 50% of calls, then recovers.',
      '',
      '| figure | value | goal | verdict |',
      '| --- | --- | --- | --- |',
      `| breaker opened after errors began | ${d.breakerOpened ? `${n(d.breakerOpenedAfterSec, 1)} s` : 'never'} | opens | ${verdict(d.goals.breakerOpens!.met)} |`,
      `| retries vs retry budget | ${n(d.retries)} retries for ${n(d.paymentCalls)} payment calls | ≤ ${n(d.retryBudgetAllowance)} (20% + 10/s) | ${verdict(d.goals.retriesWithinBudget!.met)} |`,
      `| failed checkout latency p50 / p99 | ${n(d.failedCheckoutP50Ms, 1)} / ${n(d.failedCheckoutP99Ms, 1)} ms | p99 ≤ ${n(d.requestTimeoutMs / 5)} ms (fail fast) | ${verdict(d.goals.failsFast!.met)} |`,
      `| page alert after errors began | ${d.pageAfterSec === null ? 'never' : `${n(d.pageAfterSec, 1)} s`} | ≤ ${n(d.workbookDetectionSec)} s (Workbook) | ${verdict(d.goals.pageWithinDetection!.met)} |`,
      `| time to recover after the fault | ${d.recoverySec === null ? 'did not recover' : `${n(d.recoverySec, 1)} s`} | recovers | ${verdict(d.goals.recovers!.met)} |`,
      '',
      '![budget](budget.svg)',
      '',
    );
  }
  const u = f.outages;
  if (u) {
    lines.push('## 3. Outages', '', '| outage | what happened | verdict |', '| --- | --- | --- |');
    for (const s of u.steps) lines.push(`| ${s.name} | ${s.detail} | ${verdict(s.met)} |`);
    lines.push('', '![outbox](outbox.svg)', '');
  }
  const h = f.hostile;
  if (h) {
    lines.push(
      '## 4. Hostile input',
      '',
      `${h.apiCases} generated API cases (${Object.entries(h.byCategory)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}); ${h.specCases} mutated SLO specs; ${h.randomRequests} requests to random paths with random tenant keys.`,
      '',
      '| figure | value | goal | verdict |',
      '| --- | --- | --- | --- |',
      `| crashes | ${h.crashes + h.specCrashes} | 0 | ${verdict(h.goals.noCrashes!.met)} |`,
      `| 5xx on client errors | ${h.serverErrors} | 0 | ${verdict(h.goals.no5xx!.met)} |`,
      `| cross-tenant reads | ${h.crossTenantReads} | 0 | ${verdict(h.goals.noCrossTenantReads!.met)} |`,
      `| rejections without a clear problem body / located error | ${h.unclearRejections + h.specUnlocatedErrors} | 0 | ${verdict(h.goals.clearRejections!.met)} |`,
      `| request-duration series after random paths | ${h.routeSeries} | ≤ ${h.seriesCap} | ${verdict(h.goals.seriesUnderCap!.met)} |`,
      ...attackRows(h),
      '',
    );
    if (h.examples.length > 0) lines.push('Examples of failures:', '', ...h.examples.map((e) => `- \`${e.replace(/`/g, "'")}\``), '');
  }
  const sec = f.security;
  if (sec) {
    const g = sec.goals;
    const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(1)} ms` : 'never');
    lines.push(
      '## 5. Security',
      '',
      `RetailFlow trusting a real authorization server (oidc-provider) on loopback; ${sec.attacks.length - 1} token attacks and one valid token; ${sec.revokeToRefusalMs.length} revocations${sec.acrossInstances ? ' sent to one instance and checked on another (Redis denylist)' : ' (one instance, in-memory denylist)'}.`,
      '',
      '| figure | value | goal | verdict |',
      '| --- | --- | --- | --- |',
      `| token attacks not refused with a 401/403 (404 cross-tenant) problem | ${g.attacksRefused!.value} | 0 | ${verdict(g.attacksRefused!.met)} |`,
      `| 5xx answers to token attacks | ${g.no5xx!.value} | 0 | ${verdict(g.no5xx!.met)} |`,
      `| valid token served | ${g.validTokenServed!.value} | 1 | ${verdict(g.validTokenServed!.met)} |`,
      `| revoke to refusal, p50 | ${ms(g.revokeToRefusalP50Ms!.value)} | ≤ 1000 ms | ${verdict(g.revokeToRefusalP50Ms!.met)} |`,
      `| revoke to refusal, max | ${ms(g.revokeToRefusalMaxMs!.value)} | ≤ 1000 ms | ${verdict(g.revokeToRefusalMaxMs!.met)} |`,
      `| payment-provider clients without RetailFlow's certificate refused | ${sec.mtlsRefused} of ${sec.mtlsTried} | all | ${verdict(g.mtlsWithoutCertRefused!.met)} |`,
      ...sharedAddressRows(sec),
      '',
      '| attack | status | problem body | verdict |',
      '| --- | --- | --- | --- |',
      ...sec.attacks.map((a) => `| ${a.name} | ${a.status} | ${a.problemBody ? 'yes' : 'no'} | ${verdict(a.asExpected)} |`),
      '',
    );
  }
  const dep = f.deployments;
  if (dep) {
    const bg = dep.blueGreen;
    lines.push(
      '## 7. Deployments',
      '',
      `A fleet of RetailFlow processes behind HAProxy (checks on /readyz, weights and states through the runtime API) with a Prometheus scraping each instance, under ${dep.rate} req/s (one checkout in three). ` +
        `Blue/green: green started ready at weight 0, took the traffic, blue drained and stopped (${n(bg.switchSec, 1)} s), then the same move back (${n(bg.rollbackSec, 1)} s): ` +
        `${bg.failedTotal} of ${bg.requests} requests failed (${bg.failedDuringSwitch} during the switch, ${bg.failedDuringRollback} during the rollback${Object.keys(bg.failedStatuses).length > 0 ? `; by status ${Object.entries(bg.failedStatuses).map(([k, v]) => `${k}: ${v}`).join(', ')}` : ''}); ` +
        `${bg.ordersAcknowledged} orders acknowledged, ${bg.ordersLost ?? '–'} lost, ${bg.ordersDuplicated ?? '–'} duplicated.`,
      '',
      'Canaries: 5% → 25% → 50% → 100% of traffic, judged every 2 s against the stable version from Prometheus (`judgeCanary`: Fisher per SLO, burn rate, Mann-Whitney on checkout p50).',
      '',
      '| build | outcome | decided after | share then | canary checkouts failed | answers the canary failed / all served | judgements | last reasons |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...dep.canaries.map(
        (c) =>
          `| ${c.build} | ${c.outcome} | ${n(c.decidedAfterSec, 1)} s | ${pct(c.shareAtDecision)} | ${c.canaryCheckoutFailureRatio === null ? '–' : pct(c.canaryCheckoutFailureRatio)} | ${c.harmed} / ${c.served} | ${c.judgements} | ${c.reasons.slice(0, 2).join('; ').replace(/\|/g, '/')} |`,
      ),
      '',
      ...sensitivityLines(dep),
    );
  }
  const dr = f.disaster;
  if (dr) {
    const r = dr.replication;
    lines.push(
      '## 6. Disaster recovery',
      '',
      `Two regions on this machine (PostgreSQL 15 clusters on :5441 and :5442, streaming replication, HAProxy with region B as backup servers). ${r.commits} commits each: p50/p99 ${n(r.syncP50Ms, 2)}/${n(r.syncP99Ms, 2)} ms synchronous, ${n(r.asyncP50Ms, 2)}/${n(r.asyncP99Ms, 2)} ms asynchronous; max replay lag ${n(r.asyncMaxReplayLagMs, 1)} ms (${n(r.asyncMaxLagBytes)} bytes) under async writes.`,
      '',
      '| drill | acknowledged | RTO (s) | lost orders | duplicate effects | events resumed (s) | relay token | old primary writes |',
      '| --- | --- | --- | --- | --- | --- | --- | --- |',
      ...dr.drills.map(
        (x) =>
          `| ${x.name} | ${x.acknowledged} | ${n(x.rtoSec, 1)} | ${x.lostOrders} | ${x.duplicateEffects} | ${n(x.eventsResumedSec, 1)} | ${x.tokenBefore} → ${x.tokenAfter} | ${x.oldPrimaryWrites} |`,
      ),
      '',
      `Backup: ${n(dr.backup.dataBytes / 2 ** 20, 1)} MiB database, ${dr.backup.rows} rows; full ${n(dr.backup.fullSec, 1)} s, incremental ${n(dr.backup.incrSec, 1)} s, point-in-time restore into a new cluster ${n(dr.backup.restoreSec, 1)} s; archive age at the instant ${n(dr.backup.dataLossWindowSec, 1)} s. Tables matching the source at the instant: ${Object.entries(
        dr.backup.tables,
      )
        .map(([t, v]) => `${t} ${v.rows} rows ${v.match ? 'match' : 'DIFFER'}`)
        .join(', ')}.`,
      '',
      '| goal | value | target | verdict |',
      '| --- | --- | --- | --- |',
      ...Object.entries(dr.goals).map(
        ([k, g]) => `| ${k} | ${n(g.value, 1)} | ${g.goal === null ? 'measured' : g.goal} | ${verdict(g.met)} |`,
      ),
      '',
    );
  }
  const mon = f.monetization;
  if (mon) {
    const g = mon.goals;
    lines.push(
      '## 8. Monetization',
      '',
      `Quotas on, ${mon.instances} instance(s) sharing the store${mon.instances > 1 ? ' and Redis' : ''}: ${mon.checkouts} checkouts each sent ${mon.sendsPerKey} times${mon.crashCheckouts > 0 ? `, ${mon.crashCheckouts} checkouts in flight on an instance that was killed` : ''}; ${mon.quota.attempts} concurrent checkouts of a free tenant against its quota of ${mon.quota.included}. ${mon.placed} orders placed, ${mon.metered} metered.`,
      '',
      '| figure | value | goal | verdict |',
      '| --- | --- | --- | --- |',
      `| orders billed twice | ${g.billedTwice!.value} | 0 | ${verdict(g.billedTwice!.met)} |`,
      `| placed orders not billed | ${g.unbilled!.value} | 0 | ${verdict(g.unbilled!.met)} |`,
      `| quota overshoot (metered beyond ${mon.quota.included}) | ${g.quotaOvershoot!.value} | ≤ ${mon.quota.bound} | ${verdict(g.quotaOvershoot!.met)} |`,
      `| refusals without a quota-exceeded 429 and Retry-After | ${g.quotaRefusalsClear!.value} | 0 | ${verdict(g.quotaRefusalsClear!.met)} |`,
      `| usage API minus placed orders | ${g.usageApiEqualsMeter!.value} | 0 | ${verdict(g.usageApiEqualsMeter!.met)} |`,
      '',
    );
    const c = mon.cost;
    if (c) {
      const usd = (x: number) => `${x.toFixed(6)} ${c.currency}`;
      lines.push(
        `Cost attribution (\`GET /admin/cost\`, example price sheet): a mix of ${c.checkouts} checkouts, catalog reads and order listings over ${c.windowSec.toFixed(0)} s.`,
        '',
        '| figure | value | goal | verdict |',
        '| --- | --- | --- | --- |',
        `| cost of 1,000 checkouts (CPU, database, egress) | ${usd(c.costPer1000Checkouts)} | measured | |`,
        `| cost of 1,000 checkouts with their share of the fixed platform (at this traffic) | ${usd(c.costPer1000CheckoutsLoaded)} | measured | |`,
        `| a checkout's CPU / database time | ${c.checkoutCpuMs.toFixed(1)} ms / ${c.checkoutDbMs.toFixed(1)} ms | measured | |`,
        `| process CPU attributed to requests | ${((c.attributedCpuRatio ?? 0) * 100).toFixed(0)}% | ≥ 50% | ${verdict(g.costAttributedCpuShare?.met === true)} |`,
        ...c.tenants.map((t) => `| tenant ${t.tenant} (${t.plan ?? 'no plan'}): cost / revenue / margin over the window | ${usd(t.cost)} / ${usd(t.revenue)} / ${usd(t.margin)} | measured | |`),
        ...c.plans.map((p) => `| plan ${p.plan}: margin | ${usd(p.margin)} (${p.marginRatio === null ? 'no revenue' : `${(p.marginRatio * 100).toFixed(0)}%`}) | measured | |`),
        ...c.levers.map((l) => `| lever ${l.lever} on ${l.route}: cost of 1,000 without / with | ${usd(l.off.costPer1000)} / ${usd(l.on.costPer1000)} (${l.ratio}x; database ${l.off.dbMsPerRequest} / ${l.on.dbMsPerRequest} ms, ${l.off.bytesOutPerRequest} / ${l.on.bytesOutPerRequest} B a request) | cuts it | ${verdict(l.ratio > 1)} |`),
        '',
      );
    }
  }
  const dri = f.drills;
  if (dri) {
    lines.push(
      '## 9. Runbook drills',
      '',
      `Each operational alert of RetailFlow and its SLO pages, against live instances and real Prometheus servers loading the generated rules with every duration divided by ${dri.compression} (scrapes every ${dri.scrapeSec} s, rules evaluated every second): the fault injected, the alert waited for, the diagnosis commands and queries of the generated runbook run with its placeholders filled in and their output checked for the cause, the runbook's mitigation run, the alert waited out. A fault several alerts share is undone once all of them have diagnosed it: their "mitigation took" includes that wait.`,
      '',
      '| alert | fault | fired after | mitigation took | resolved after it | mitigation | verdict |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...dri.drills.map(
        (d) =>
          `| ${d.alert} | ${d.fault} | ${n(d.firedAfterSec, 1)} s | ${n(d.mitigationSec, 1)} s | ${n(d.resolvedAfterSec, 1)} s | ${d.mitigation.replace(/\|/g, '/')} | ${d.passed ? 'passed' : `**not met**: ${d.failure.replace(/\|/g, '/')}`} |`,
      ),
      '',
      'What each diagnosis showed:',
      '',
      ...dri.drills.map((d) => `- ${d.alert}: ${d.evidence.join('; ')}`),
      '',
    );
  }
  return lines.join('\n');
}

/** The canary sensitivity study as a paragraph and two tables. */
function sensitivityLines(dep: NonNullable<ProofFigures['deployments']>): string[] {
  const st = dep.sensitivity as DeploymentsResult['sensitivity'] | undefined;
  if (!st) return [];
  const pct = (x: number) => `${(x * 100).toFixed(x < 0.01 && x > 0 ? 2 : 0)}%`;
  const sec = (x: number | null) => (x === null || !Number.isFinite(x) ? '–' : `${x.toFixed(0)} s`);
  const row = (r: DeploymentsResult['sensitivity']['rows'][number]) =>
    r.build === 'good'
      ? `| ${r.rate} | ${pct(r.firstShare)} | ${r.minEvents} | ${r.build} | ${pct(r.rolledBack / r.trials)} false rollbacks, ${pct(r.held / r.trials)} held | – | – |`
      : `| ${r.rate} | ${pct(r.firstShare)} | ${r.minEvents} | ${r.build} | ${pct(r.rolledBack / r.trials)} rolled back, ${pct(r.held / r.trials)} held, ${pct(r.promoted / r.trials)} promoted | ${sec(r.decidedP50Sec)} / ${sec(r.decidedP90Sec)} | ${Number.isFinite(r.harmedP50) ? `${r.harmedP50} / ${r.harmedP90} (${pct(r.harmedShareP50)})` : '–'} |`;
  const header = [
    '| req/s | first share | min events | build | outcomes | rollback after p50 / p90 | requests harmed p50 / p90 (share of served) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  return [
    `How detection and harm move with the canary's share and the traffic rate: the same rollout (${st.stepSec} s steps, judged every 2 s by \`judgeCanary\` with the drill's options) replayed on simulated traffic of the drill's shape, ${st.trials} seeded trials per row (seed ${st.seed}; failing build: ${(st.builds[0]!.checkoutFailure * 100).toFixed(1)}% of its checkouts fail, as in the committed quick run's drill (this run's: ${((dep.canaries.find((c) => c.build === 'failing')?.canaryCheckoutFailureRatio ?? 0) * 100).toFixed(1)}%); slow build: +${st.builds[1]!.addedLatencyMs} ms). Detection time falls with the canary's traffic (share × rate); the requests a bad build harms before its rollback stay nearly constant (the judge needs a fixed number of bad events), so a smaller first share spreads the same harm over more time; at low traffic a failing build can pass every step on too few events, and larger minimum samples trade promotion time for fewer escapes.`,
    '',
    ...header,
    ...st.rows.map(row),
    '',
    `At ${dep.rate} req/s from 5%, by minimum sample per SLO:`,
    '',
    ...header,
    ...st.byMinEvents.map(row),
    '',
  ];
}


/** The security section's shared-address rows (runs before the step existed have none). */
function sharedAddressRows(sec: SecurityResult): string[] {
  const shared = sec.sharedAddress as SecurityResult['sharedAddress'] | undefined;
  const g = sec.goals;
  if (shared === undefined || g.neighbourBehindProxyServed === undefined) return [];
  return [
    `| behind HAProxy: the attacker's wrong keys refused 429 once its own budget was spent | ${shared.attackerThrottled} of ${shared.attackerTries} | ≥ ${g.attackerBehindProxyThrottled!.goal} | ${verdict(g.attackerBehindProxyThrottled!.met)} |`,
    `| behind HAProxy: another client's key, never seen before, served | ${shared.neighbourStatus} | 200 | ${verdict(g.neighbourBehindProxyServed.met)} |`,
    `| from an address whose budget an attacker spent: a token refreshed since its subject authenticated | ${shared.refreshedTokenStatus} | 200 | ${verdict(g.refreshedTokenServedFromSpentAddress!.met)} |`,
    `| from that address: a key never seen, refused unread | ${shared.unseenKeyStatus} | 429 | ${verdict(g.unseenKeyRefusedFromSpentAddress!.met)} |`,
  ];
}

/** The attack goals (slow bodies, abusive input, cancel races, noisy neighbour) as table rows. */
function attackRows(h: HostileResult): string[] {
  const a = h.attacks as HostileResult['attacks'] | undefined;
  if (!a) return [];
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const g = a.goals;
  return [
    `| slow-request attack (${a.slow.connections} slow connections): another tenant's success (of ${a.slow.requests} calls) | ${pct(a.slow.attackedSuccess)} | ≥ 99% | ${verdict(g.slowAttackOtherTenantSuccess!.met)} |`,
    `| slow-request attack: another tenant's p99 | ${a.slow.attackedP99Ms.toFixed(1)} ms | ≤ 2x unloaded (${g.slowAttackOtherTenantP99Ms!.goal.toFixed(1)} ms) | ${verdict(g.slowAttackOtherTenantP99Ms!.met)} |`,
    `| forged and abusive input (${a.abusive.cases} cases): 5xx | ${a.abusive.serverErrors} | 0 | ${verdict(g.abusiveInputNo5xx!.met)} |`,
    `| cancels during in-flight charges (${a.money.cancelAttempts} cancels, ${a.money.charges} charges): charges without a recorded payment | ${a.money.orphanCharges} | 0 | ${verdict(g.chargesWithoutRecordedPayment!.met)} |`,
    `| noisy neighbour: another tenant's checkouts during a 32-way burst (of ${a.noisy.victimCheckouts}) | ${pct(a.noisy.burstSuccess)} | ≥ 99% | ${verdict(g.noisyNeighbourVictimSuccess!.met)} |`,
  ];
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A self-contained HTML page: the Markdown's tables and text, with the SVG charts inline. */
export function html(f: ProofFigures): string {
  const svg = charts(f);
  const body: string[] = [];
  let inTable = false;
  for (const line of markdown(f).split('\n')) {
    const image = /^!\[(\w+)\]\((\w+)\.svg\)$/.exec(line);
    if (line.startsWith('|')) {
      const cells = line.split('|').slice(1, -1).map((c) => c.trim());
      if (cells.every((c) => /^-+$/.test(c))) continue;
      if (!inTable) body.push('<table>');
      const tag = inTable ? 'td' : 'th';
      body.push(`<tr>${cells.map((c) => `<${tag}>${inline(c)}</${tag}>`).join('')}</tr>`);
      inTable = true;
      continue;
    }
    if (inTable) {
      body.push('</table>');
      inTable = false;
    }
    if (image) body.push(`<figure>${svg[image[2]!] ?? ''}</figure>`);
    else if (line.startsWith('# ')) body.push(`<h1>${inline(line.slice(2))}</h1>`);
    else if (line.startsWith('## ')) body.push(`<h2>${inline(line.slice(3))}</h2>`);
    else if (line.startsWith('- ')) body.push(`<p class="item">${inline(line.slice(2))}</p>`);
    else if (line.trim() !== '') body.push(`<p>${inline(line)}</p>`);
  }
  if (inTable) body.push('</table>');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Ballast proof</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f4f4f4}strong.bad{color:#b00}figure{margin:1em 0}p.item{margin:.2em 0 .2em 1em}
</style></head><body>
${body.join('\n')}
</body></html>
`;
}

function inline(text: string): string {
  return escapeHtml(text)
    .replace(/\*\*not met\*\*/g, '<strong class="bad">not met</strong>')
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/`(.+?)`/g, '<code>$1</code>');
}
