/**
 * `@ballast/ops`: the operator kit for any service. From a team's OpenSLO specs and an optional service file it
 * generates Grafana dashboards, Prometheus rules with promtool tests (also as prometheus-operator `PrometheusRule`
 * resources), Argo Rollouts `AnalysisTemplate`s and one runbook per alert. The CLI is `ballast-ops generate`.
 *
 * @example
 * ```ts
 * import { generateOps, resolveService } from '@ballast/ops';
 * import { loadSlos } from '@ballast/slo';
 * const { files } = generateOps({ slos: await loadSlos(['slos/']), service: resolveService({ name: 'shop' }) });
 * ```
 */
export type { OpsInput, OpsOutput, RunbookPageOf } from './generate.js';
export { PROMETHEUS_FILES, generateOps, isRuleFile, ruleFilesOf, withHints } from './generate.js';
export type {
  Lever,
  LogsSpec,
  ResolvedService,
  RunbookHints,
  ServiceFileError,
  ServiceMetric,
  ServiceSpec,
} from './service.js';
export type { PanelSpec, QuerySpec, RowSpec } from './grafana/spec.js';
export {
  SERVICE_SCHEMA,
  defaultService,
  formatServiceError,
  parseServiceFile,
  resolveService,
} from './service.js';
export type { AlertSpec, AlertTestCase, DiagnosisQuery, PanelRef, TestSeries } from './alerts/alert.js';
export { BallastTargetDown, BallastTargetMissing, sliNoData, sliNoDataAlertName } from './alerts/absence.js';
export type { KubernetesObject } from './kubernetes.js';
export { analysisTemplates, canaryCondition, kubernetesYaml, prometheusRuleResource } from './kubernetes.js';
export type { MetricSpec, MetricType } from './catalog.js';
export type { LintContext } from './grafana/lint.js';
export { lintDashboard } from './grafana/lint.js';
export type { WriteResult } from './write.js';
export { diffGenerated, writeGenerated } from './write.js';
export type { OpsCliIo } from './cli/main.js';
export { runOpsCli } from './cli/main.js';
