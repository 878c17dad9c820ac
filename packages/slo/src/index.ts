export type {
  Alerting,
  BadRatioIndicator,
  Budgeting,
  BurnRateCondition,
  CalendarUnit,
  CalendarWindow,
  GoodRatioIndicator,
  Indicator,
  LatencyIndicator,
  ObjectiveOf,
  OccurrencesBudgeting,
  PrometheusSource,
  RatioIndicator,
  RollingWindow,
  Severity,
  Slo,
  SpecLocation,
  TimeWindow,
  TimeslicesBudgeting,
} from './model.js';
export { longestPeriodMs, periodMs } from './model.js';
export type { AlertConditionInput, IndicatorInput, SloInput, WindowInput } from './define.js';
export { defineSlo, isValidTimeZone, parseHistogramSelector } from './define.js';
export { defaultAlertWindows } from './alert-windows.js';
export { formatDuration, parseDuration } from './duration.js';
export { WINDOW_PLACEHOLDER, prometheusSource, windowedQuery } from './promql.js';
export type { SloEngineOptions } from './engine/engine.js';
export { SloEngine } from './engine/engine.js';
export type { SloRestoreResult } from './engine/snapshot.js';
export { SloSnapshotError, isSloSnapshotError } from './engine/snapshot.js';
export type {
  SloPersistence,
  SloPersistenceOptions,
  SloPersistenceState,
  SloSnapshotStore,
} from './engine/persistence.js';
export { persistSloEngine } from './engine/persistence.js';
export type { AlertStatus, BurnRate, ErrorBudget, SloAlertEvent, SloStatus } from './engine/status.js';
export type { CalendarPeriod } from './engine/calendar.js';
export { calendarPeriod } from './engine/calendar.js';
export type { BudgetPolicy, BudgetPolicyState, ResolvedBudgetPolicy } from './budget-policy.js';
export { budgetAllows, budgetPolicyState, resolveBudgetPolicy } from './budget-policy.js';
export type { SpecError } from './openslo/errors.js';
export { SpecValidationError, formatSpecError, isSpecValidationError } from './openslo/errors.js';
export type { SpecParseResult, SpecSource } from './openslo/parse.js';
export { parseSlos, parseSpecs } from './openslo/parse.js';
export { importSloth } from './openslo/sloth.js';
export type { SlothImportOptions } from './openslo/sloth.js';
export { loadSlos, loadSpecFiles } from './openslo/load.js';
export type { SpecKind } from './openslo/schema.js';
export { SPEC_KINDS } from './openslo/schema.js';
export type {
  AlertingRule,
  GeneratedRules,
  RecordingRule,
  RuleGroup,
  RulesOptions,
} from './rules/generate.js';
export { generateRules, sloLabels, sloRuleGroups } from './rules/generate.js';
export type { RuleTestFile } from './rules/tests.js';
export { generateRuleTests } from './rules/tests.js';
export { SLO_RECORDS, burnRateAlertName, errorRatioSelector } from './rules/names.js';
export type { SloQueries } from './rules/queries.js';
export { sloQueries } from './rules/queries.js';
export type {
  PrometheusClientOptions,
  PrometheusRangeSeries,
  PrometheusSample,
} from './prometheus/client.js';
export { PrometheusClient, PrometheusQueryError, isPrometheusQueryError } from './prometheus/client.js';
export type { PrometheusBackendOptions, SloHistoryPoint } from './prometheus/backend.js';
export { PrometheusBackend } from './prometheus/backend.js';
export type { ReportAlert, ReportPoint, SloReport, SloReportEntry } from './report/model.js';
export type { EngineReportOptions, ReportEvent } from './report/from-engine.js';
export { engineReport } from './report/from-engine.js';
export type { PrometheusReportOptions } from './report/from-prometheus.js';
export { prometheusReport } from './report/from-prometheus.js';
export { renderHtmlReport } from './report/html.js';
export { renderMarkdownReport } from './report/markdown.js';
export type {
  CanaryCheck,
  CanaryCounts,
  CanaryJudgeInput,
  CanaryJudgeOptions,
  CanaryJudgement,
  CanaryMetricInput,
  CanarySloInput,
  CanaryVerdict,
} from './canary/judge.js';
export { judgeCanary } from './canary/judge.js';
export type { CanaryLatencyQuery, CanaryQueryOptions } from './canary/prometheus.js';
export {
  canaryLatencyFromPrometheus,
  canarySlosFromPrometheus,
  sloQueriesWithMatchers,
} from './canary/prometheus.js';
