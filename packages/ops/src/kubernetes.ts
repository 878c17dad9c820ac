import { formatDuration, parseDuration, sloQueriesWithMatchers, type Slo } from '@ballast/slo';
import { stableYaml } from './prometheus/rules.js';
import type { ResolvedService } from './service.js';

/**
 * Kubernetes resources for a service's SLOs: the rule files as prometheus-operator `PrometheusRule` resources, and
 * one Argo Rollouts `AnalysisTemplate` per SLO that judges the canary against the stable version. Plain objects (no
 * runtime dependency); the tests validate them with the `@kubernetes-models/*` packages.
 */

/** A Kubernetes object as written. */
export type KubernetesObject = Record<string, unknown> & {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string };
};

function metadata(name: string, service: ResolvedService): Record<string, unknown> {
  return {
    name,
    ...(service.kubernetes.namespace === undefined ? {} : { namespace: service.kubernetes.namespace }),
    labels: {
      'app.kubernetes.io/name': service.name,
      'app.kubernetes.io/managed-by': 'ballast-ops',
      ...service.kubernetes.labels,
    },
  };
}

/**
 * A prometheus-operator `PrometheusRule` (`monitoring.coreos.com/v1`) holding `groups`.
 *
 * @example
 * ```ts
 * const rule = prometheusRuleResource('shop-slo', service, generateRules(slos).groups);
 * ```
 */
export function prometheusRuleResource(
  name: string,
  service: ResolvedService,
  groups: readonly unknown[],
): KubernetesObject {
  return {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: metadata(name, service) as { name: string },
    spec: { groups: JSON.parse(JSON.stringify(groups)) as unknown },
  };
}

/** The burn-rate threshold and window a canary is judged on: the fastest `page` condition's, by default. */
export function canaryCondition(slo: Slo): { readonly burnRate: number; readonly window: string } {
  const conditions = [...slo.alerting.conditions].sort((a, b) => b.burnRate - a.burnRate);
  const c = conditions.find((x) => x.severity === 'page') ?? conditions[0];
  return c
    ? { burnRate: c.burnRate, window: c.shortWindow }
    : { burnRate: 1, window: formatDuration(300_000) };
}

// One-sided z for a significance level of 0.01, the level of `judgeCanary`'s default alpha.
const Z_ALPHA_01 = 2.326;
// Events the canary needs before the comparison is judged (`judgeCanary`'s default `minEvents`).
const MIN_EVENTS = 100;

/**
 * One Argo Rollouts `AnalysisTemplate` (`argoproj.io/v1alpha1`) per SLO that judges the canary against the stable
 * version, as `judgeCanary` does, with Argo's own pod-template hashes (`valueFrom.podTemplateHashValue`) selecting
 * each version's series through the label `kubernetes.podTemplateHashLabel` of the service file. Two metrics, every
 * minute for five minutes, over the short window of the SLO's fastest page condition:
 * - `<slo>-canary-burn-rate`: the canary's own burn rate; fails at or above that condition's threshold.
 * - `<slo>-canary-vs-stable`: a one-sided two-proportion z-test that the canary's bad ratio exceeds the stable
 *   version's by more than one budget's worth of burn (`(1 − objective)`, `judgeCanary`'s `maxExtraBurn` of 1);
 *   fails when z ≥ 2.326 (alpha 0.01), and returns no data (inconclusive) until the canary has 100 events.
 * No data (no traffic yet, or a query error) is inconclusive: the rollout pauses for a person rather than promoting
 * a canary nobody measured.
 *
 * @example
 * ```ts
 * const templates = analysisTemplates(slos, service); // reference them from a Rollout's canary steps
 * ```
 */
export function analysisTemplates(slos: readonly Slo[], service: ResolvedService): KubernetesObject[] {
  const label = service.kubernetes.podTemplateHashLabel;
  return slos.map((slo) => {
    const { burnRate, window } = canaryCondition(slo);
    const budget = Number((1 - slo.objective).toPrecision(12));
    const seconds = (parseDuration(window) ?? 300_000) / 1000;
    const canary = sloQueriesWithMatchers(slo, `${label}="{{args.canary-hash}}"`);
    const stable = sloQueriesWithMatchers(slo, `${label}="{{args.stable-hash}}"`);
    const ratio = (q: typeof canary) => `(${q.bad(window)}) / (${q.total(window)})`;
    const pooled = `((${canary.bad(window)}) + (${stable.bad(window)})) / ((${canary.total(window)}) + (${stable.total(window)}))`;
    const inverseEvents = `(1 / ((${canary.total(window)}) * ${seconds}) + 1 / ((${stable.total(window)}) * ${seconds}))`;
    const zTest = [
      `(`,
      `  (${ratio(canary)})`,
      `  - (${ratio(stable)})`,
      `  - ${budget}`,
      `)`,
      `/ sqrt(clamp_min((${pooled}) * (1 - (${pooled})) * ${inverseEvents}, 1e-12))`,
      `and on() ((${canary.total(window)}) * ${seconds} >= ${MIN_EVENTS})`,
    ].join('\n');
    const common = { interval: '1m', count: 5, failureLimit: 0, inconclusiveLimit: 1 };
    const prometheus = (query: string) => ({ prometheus: { address: '{{args.prometheus-address}}', query } });
    return {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'AnalysisTemplate',
      metadata: metadata(`${slo.name}-canary`, service) as { name: string },
      spec: {
        args: [
          { name: 'prometheus-address', value: service.kubernetes.prometheusAddress },
          { name: 'canary-hash', valueFrom: { podTemplateHashValue: 'Latest' } },
          { name: 'stable-hash', valueFrom: { podTemplateHashValue: 'Stable' } },
        ],
        metrics: [
          {
            name: `${slo.name}-canary-burn-rate`,
            ...common,
            successCondition: `len(result) > 0 && result[0] < ${burnRate}`,
            failureCondition: `len(result) > 0 && result[0] >= ${burnRate}`,
            provider: prometheus(`(${canary.errorRatio(window)})\n/ ${budget}`),
          },
          {
            name: `${slo.name}-canary-vs-stable`,
            ...common,
            successCondition: `len(result) > 0 && result[0] < ${Z_ALPHA_01}`,
            failureCondition: `len(result) > 0 && result[0] >= ${Z_ALPHA_01}`,
            provider: prometheus(zTest),
          },
        ],
      },
    };
  });
}

/** Kubernetes objects as one multi-document YAML file. */
export function kubernetesYaml(objects: readonly KubernetesObject[]): string {
  return `# Generated by \`ballast-ops generate\`: do not edit by hand.\n${objects.map((o) => stableYaml(o)).join('---\n')}`;
}
