import { systemClock } from '@ballast/core';
import { judgeCanary, type CanaryJudgement, type CanaryMetricInput } from '../canary/judge.js';
import { canaryLatencyFromPrometheus, canarySlosFromPrometheus } from '../canary/prometheus.js';
import { PrometheusClient } from '../prometheus/client.js';
import { parseCommandArgs, UsageError, type CliCommand } from './command.js';
import { loadCommandSpecs } from './specs.js';

/** Exit codes of `ballast-slo canary`: a pipeline promotes on 0, rolls back on 1 and holds on anything else. */
const VERDICT_EXIT = { pass: 0, fail: 1, inconclusive: 2 } as const;

function number(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`--${name}: expected a number, got ${JSON.stringify(value)}`);
  return n;
}

/** Renders a judgement as the lines a deploy log shows. */
export function judgementText(judgement: CanaryJudgement): string {
  return [
    `verdict: ${judgement.verdict}`,
    ...judgement.checks.map((c) => `  ${c.verdict.padEnd(12)} ${c.kind.padEnd(9)} ${c.reason}`),
  ].join('\n');
}

/** `ballast-slo canary`: judges a canary against its baseline from Prometheus. */
export const command: CliCommand = {
  name: 'canary',
  summary: 'Judge a canary against its baseline from Prometheus (pass, fail or inconclusive)',
  usage:
    'ballast-slo canary --prometheus URL --canary MATCHERS --baseline MATCHERS [--window 5m] [--latency HISTOGRAM] [--json] <file-or-directory>...',
  help: `Reads each SLO's good and total events over --window for the canary's series and the baseline's series (the
SLO's own selectors with the given label matchers added), and judges them: Fisher's exact test on bad events (the
canary fails when it is significantly worse by more than a budget's worth of burn), the canary's own burn rate, and,
with --latency, a Mann-Whitney test of a latency quantile sampled every --step.

Options:
  --prometheus URL      the Prometheus (or Thanos/Mimir query) base URL
  --canary MATCHERS     label matchers of the canary's series, without braces: track="canary"
  --baseline MATCHERS   label matchers of the baseline's series: track="stable"
  --window DURATION     the interval judged, ending now (default 5m)
  --latency HISTOGRAM   also compare this histogram's quantile (base name, without _bucket)
  --latency-matchers M  matchers for the latency histogram shared by both versions (route="/api/v1/orders")
  --quantile Q          the latency quantile (default 0.5)
  --step DURATION       one latency value per step (default 15s)
  --alpha A             significance level (default 0.01)
  --min-events N        events each version needs per SLO (default 100)
  --json                print the judgement as JSON

Exit codes: 0 pass (promote), 1 fail (roll back), 2 inconclusive or cannot judge (hold: too little data,
Prometheus unreachable, invalid specs or usage).`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, {
      prometheus: { type: 'string' },
      canary: { type: 'string' },
      baseline: { type: 'string' },
      window: { type: 'string', default: '5m' },
      latency: { type: 'string' },
      'latency-matchers': { type: 'string' },
      quantile: { type: 'string' },
      step: { type: 'string' },
      alpha: { type: 'string' },
      'min-events': { type: 'string' },
      json: { type: 'boolean' },
    });
    for (const name of ['prometheus', 'canary', 'baseline'] as const) {
      if (values[name] === undefined) throw new UsageError(`--${name} is required`);
    }
    const slos = await loadCommandSpecs(positionals, io);
    if (!slos) return VERDICT_EXIT.inconclusive;
    const client = new PrometheusClient({ url: values.prometheus! });
    const options = {
      canary: values.canary!,
      baseline: values.baseline!,
      window: values.window ?? '5m',
      at: (io.now ?? (() => systemClock.now()))(),
    };
    const alpha = number('alpha', values.alpha);
    const minEvents = number('min-events', values['min-events']);
    const quantile = number('quantile', values.quantile);
    let judgement: CanaryJudgement;
    try {
      const inputs = await canarySlosFromPrometheus(client, slos, options);
      const metrics: CanaryMetricInput[] = [];
      if (values.latency !== undefined) {
        metrics.push(
          await canaryLatencyFromPrometheus(
            client,
            {
              name: `${values.latency} p${Math.round((quantile ?? 0.5) * 100)}`,
              histogram: values.latency,
              ...(values['latency-matchers'] === undefined ? {} : { matchers: values['latency-matchers'] }),
              ...(quantile === undefined ? {} : { quantile }),
              ...(values.step === undefined ? {} : { step: values.step }),
            },
            options,
          ),
        );
      }
      judgement = judgeCanary({
        slos: inputs,
        metrics,
        options: {
          ...(alpha === undefined ? {} : { alpha }),
          ...(minEvents === undefined ? {} : { minEvents }),
        },
      });
    } catch (error) {
      io.stderr(`cannot judge the canary: ${error instanceof Error ? error.message : String(error)}\n`);
      return VERDICT_EXIT.inconclusive;
    }
    io.stdout(values.json ? `${JSON.stringify(judgement, null, 2)}\n` : `${judgementText(judgement)}\n`);
    return VERDICT_EXIT[judgement.verdict];
  },
};
