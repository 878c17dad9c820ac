import { burnRateAlertName, errorRatioSelector, formatDuration, type Slo } from '@ballast/slo';
import type { AlertSpec } from './alert.js';
import type { AlertContext } from './ops.js';

/**
 * Alerts for absence. Every SLO alert is a ratio of request counters: when the process dies, the scrape fails or
 * a deploy renames a metric, the ratio has no data and no burn-rate alert can fire. These alerts fire on the
 * silence itself.
 */

/** Prometheus scrapes the target and gets no answer: `up == 0`. */
export function BallastTargetDown(
  job: string,
  { TEST_LABELS, TEST_TARGET, metrics }: AlertContext,
): AlertSpec {
  return {
    name: 'BallastTargetDown',
    severity: 'critical',
    expr: `up{job="${job}"} == 0`,
    for: '2m',
    summary: 'Prometheus cannot scrape {{ $labels.instance }} of {{ $labels.job }}',
    description:
      'For 2 minutes every scrape of {{ $labels.instance }} ({{ $labels.job }}) failed: the process is down, it does not answer on its metrics port, or the network between Prometheus and it is broken. Its SLOs see no data from it, so their burn-rate alerts cannot fire for it.',
    runbook: {
      meaning:
        'Prometheus scrapes every instance of the job at its `/metrics` endpoint; `up` is 1 when a scrape succeeds and 0 when it fails (connection refused, timeout, TLS or HTTP error, a body it cannot parse). The scrapes of this instance have failed for 2 minutes.',
      impact:
        'If the process is down, its share of the traffic fails or moves to the other instances. Whatever the cause, Prometheus is blind to this instance: its errors do not count in the SLOs, and no other alert fires for it.',
      queries: [
        { title: 'Which instances are down', expr: `up{job="${job}"} == 0` },
        {
          title: 'Scrape duration (a slow scrape times out)',
          expr: `max by (instance) (scrape_duration_seconds{job="${job}"})`,
        },
        { title: 'Instances up, over time', expr: `sum(up{job="${job}"})` },
      ],
      panels: [],
      curl: [metrics('process_start_time_seconds')],
      steps: [
        "Open Prometheus's Targets page (`/targets`): its `Error` column gives the scrape error (connection refused: the process is not listening; context deadline exceeded: the scrape is too slow; server returned HTTP status: the endpoint answers an error).",
        'Check the process itself: is it running, restarting in a loop (container restarts, OOM kills), or stuck (alive but not answering)?',
        'If only the scrape fails (the service answers requests), check the metrics port, network policies and the scrape configuration.',
      ],
      mitigation: [
        'Restart the instance if it is stuck; roll back the deploy that started the crash loop.',
        'If the metrics endpoint alone is broken, fix the scrape (port, path, TLS) before anything else: until then the SLOs are blind.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'scrapes fail for 10 minutes: fires after 2 minutes; resolves when they succeed again',
        series: [{ series: `up{${TEST_TARGET}}`, values: '1x5 0x10 1x10' }],
        firing: [{ at: '10m', labels: { ...TEST_LABELS } }],
        quiet: ['3m', '7m', '20m'],
      },
    ],
  };
}

/** Prometheus has no target of the job at all: `absent(up{job=...})`. */
export function BallastTargetMissing(job: string, { TEST_TARGET }: AlertContext): AlertSpec {
  return {
    name: 'BallastTargetMissing',
    severity: 'critical',
    expr: `absent(up{job="${job}"})`,
    for: '5m',
    summary: 'Prometheus has no target of job {{ $labels.job }}',
    description:
      'For 5 minutes Prometheus has scraped no instance of {{ $labels.job }}: service discovery finds none, the job was renamed or removed from the configuration, or Prometheus itself lost it. Nothing about the service is measured, and no other alert can fire for it.',
    runbook: {
      meaning:
        'Prometheus writes an `up` series for every target it scrapes. None exists for this job: Prometheus is not even trying to scrape it. `up == 0` (BallastTargetDown) covers a target that fails; this alert covers one that is gone.',
      impact:
        'Either the service has no instance running at all (every request fails), or it runs unobserved: its SLOs, dashboards and alerts show nothing.',
      queries: [
        { title: 'Targets of the job', expr: `up{job="${job}"}` },
        { title: 'Every job Prometheus scrapes', expr: 'count by (job) (up)' },
      ],
      panels: [],
      curl: [],
      steps: [
        [
          "Ask Prometheus whether the job is in its configuration at all, which targets of it discovery found (active, with their health and last error) and which relabelling dropped (their discovered labels say why). A configured job with neither points at discovery: the pods, the ServiceMonitor's selector, the file or DNS it reads. The same answers are on Prometheus's Configuration, Targets and Service Discovery pages.",
          '',
          '   ```sh',
          '   export PROMETHEUS=http://127.0.0.1:9090  # your Prometheus',
          `   curl -s "$PROMETHEUS/api/v1/status/config" | jq -r .data.yaml | grep -n 'job_name:'`,
          `   curl -s "$PROMETHEUS/api/v1/targets?state=any" | jq -c '{active: [.data.activeTargets[] | select(.labels.job == "${job}") | {scrapeUrl, health, lastError}], dropped: [.data.droppedTargets[] | select(.discoveredLabels.job == "${job}") | .discoveredLabels]}'`,
          '   ```',
          '',
        ].join('\n'),
        'Check that the service is deployed and running (no instance means no target under Kubernetes service discovery).',
        'Check recent changes to the Prometheus configuration, the ServiceMonitor or PodMonitor, and the labels they select on.',
      ],
      mitigation: [
        'If no instance runs, redeploy or scale the service up: that is the outage.',
        'If the instances run but are not discovered, restore the scrape configuration or the labels discovery selects on.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: 'the target disappears: fires 5 minutes after its series goes stale; resolves when it comes back',
        series: [{ series: `up{${TEST_TARGET}}`, values: '1x5 _x15 1x10' }],
        firing: [{ at: '17m', labels: { job } }],
        quiet: ['3m', '12m', '25m'],
      },
    ],
  };
}

/** The name of the no-data alert of an SLO: `<Service><Slo>SliNoData`, next to its burn-rate alerts. */
export function sliNoDataAlertName(slo: Pick<Slo, 'service' | 'name'>): string {
  return burnRateAlertName(slo, 'page').replace(/BurnRatePage$/, 'SliNoData');
}

/** The shortest alert window of an SLO (ms), or 5 minutes when it has no alert conditions. */
export function shortestWindowMs(slo: Slo): number {
  const windows = slo.alerting.conditions.flatMap((c) => [c.shortWindowMs, c.longWindowMs]);
  return windows.length > 0 ? Math.min(...windows) : 300_000;
}

/**
 * The SLI of an SLO has no data over its shortest alert window: the error ratio the SLO rules record for that
 * window is absent (no series of the SLI's counters in the window), so its burn-rate alerts cannot fire.
 */
export function sliNoData(slo: Slo, job: string): AlertSpec {
  const window = formatDuration(shortestWindowMs(slo));
  const minutes = Math.max(1, Math.ceil(shortestWindowMs(slo) / 60_000));
  // `window=~` rather than `window=`: absent() copies a selector's equality matchers into the alert's labels.
  const selector = errorRatioSelector(window, { slo: slo.name }).replace(/,window="/, ',window=~"');
  const labels = { slo: slo.name, service: slo.service };
  return {
    name: sliNoDataAlertName(slo),
    severity: 'warning',
    expr: `absent(${selector})`,
    for: `${minutes}m`,
    labels,
    summary: `SLO ${slo.name} has no SLI data`,
    description: `For ${minutes} minutes the SLI of ${slo.displayName} has had no data over its shortest alert window (${window}): the recorded error ratio \`${selector}\` is absent, so its burn-rate alerts cannot fire.`,
    runbook: {
      meaning: `The SLO rules record the error ratio of \`${slo.name}\` over each alert window from the SLI's counters. The ratio over the shortest window (${window}) does not exist: no series of the SLI's counters was seen in the last ${window}. Either nothing is scraped (see [BallastTargetDown](BallastTargetDown.md) and [BallastTargetMissing](BallastTargetMissing.md)), the metric was renamed or lost a label the SLI selects on, the SLO rules are not loaded, or the service has served no request of this kind since it started (labelled counters appear with the first request).`,
      impact: `The SLO \`${slo.name}\` is blind: its burn-rate alerts cannot fire, whatever users get. Its error budget stops moving in Prometheus.`,
      queries: [
        { title: `Error ratio over ${window} (recorded)`, expr: selector },
        {
          title:
            'Targets of the service (0: the scrape fails; no series at all: no target, see BallastTargetMissing)',
          expr: `up{job="${job}"}`,
        },
      ],
      panels: [{ dashboard: 'ballast-slo-detail', panel: 'SLI vs objective' }],
      curl: [],
      steps: [
        'If a target is down or missing, follow that alert first: this one is its consequence.',
        "Compare the SLI's queries in the SLO spec with the metric names and labels the service exposes now (a deploy may have renamed one).",
        'Check that Prometheus loads the SLO rules (`/rules`: the group of this SLO, its health and last error).',
        'Low traffic: if the service simply had no request of this kind since it started, send one (or a synthetic probe) and watch the alert resolve.',
      ],
      mitigation: [
        'Restore the scrape or the metric name the SLI selects on (roll back the deploy that changed it), or fix the SLO spec and regenerate the rules.',
        'For a service with long quiet periods, add a synthetic probe so the SLI always has data.',
      ],
      mitigationCommands: [],
    },
    tests: [
      {
        name: `the SLI goes silent: fires ${minutes} minutes after its recorded ratio goes stale; resolves when data returns`,
        series: [
          {
            series: errorRatioSelector(window, { slo: slo.name, service: slo.service }),
            values: `0.001x10 _x${minutes + 15} 0.001x20`,
          },
        ],
        firing: [{ at: `${20 + minutes}m`, labels }],
        quiet: ['5m', '12m', `${30 + minutes}m`],
      },
    ],
  };
}
