import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRIC_CATALOG } from '@ballast/telemetry';
import { parseSlos } from '@ballast/slo';
import type { AlertSpec } from '../../src/alerts/alert.js';
import {
  generateOps,
  ruleFilesOf as ruleFilesIn,
  PROMETHEUS_FILES,
  type RunbookPageOf,
} from '../../src/generate.js';
import type { DashboardSpec } from '../../src/grafana/model.js';
import type { MetricSpec } from '../../src/catalog.js';
import type { RuleEntry } from '../../src/prometheus/rules.js';
import { parseServiceFile, resolveService, type ResolvedService } from '../../src/service.js';

/**
 * RetailFlow's operator files as `npm run generate` writes them (`ballast-ops generate --out .` with its SLO spec
 * and service file), for the tests that check them.
 */

/** The repository root. */
export const REPOSITORY_ROOT = join(import.meta.dirname, '../../../..');
/** RetailFlow's SLO spec and service file, relative to the root. */
export const SLO_SPEC = 'examples/retailflow/slo/retailflow.yaml';
export const SERVICE_FILE = 'examples/retailflow/ops.service.yaml';

const parsed = parseServiceFile(readFileSync(join(REPOSITORY_ROOT, SERVICE_FILE), 'utf8'), SERVICE_FILE);
if ('errors' in parsed) throw new Error(JSON.stringify(parsed.errors));
/** RetailFlow's service file, resolved. */
export const SERVICE: ResolvedService = resolveService(parsed.service);
/** Where the rules go. */
export const PROMETHEUS_DIR = SERVICE.output.prometheus;
export const PROMETHEUS_CONFIG = PROMETHEUS_FILES.config;
/** The directories `generate` owns under the root. */
export const GENERATED_DIRS = [
  'dashboards',
  'runbooks',
  SERVICE.output.prometheus,
  SERVICE.output.kubernetes,
];
/** Where runbooks are published: `runbook_url` is this plus `<AlertName>.md`. */
export const RUNBOOK_BASE_URL = `${SERVICE.runbookBaseUrl}/runbooks/`;

function output() {
  const slos = parseSlos(readFileSync(join(REPOSITORY_ROOT, SLO_SPEC), 'utf8'), SLO_SPEC);
  return generateOps({ slos, service: SERVICE });
}

/** Every generated file, path relative to the root → content. */
export function generateFiles(): Map<string, string> {
  return output().files;
}

/** The catalog plus the metrics the service file adds. */
export function loadCatalog(): readonly MetricSpec[] {
  return [...METRIC_CATALOG, ...SERVICE.metricSpecs];
}

/** The rule files Prometheus loads, path → rules. */
export function ruleFilesOf(files: ReadonlyMap<string, string>): Map<string, RuleEntry[]> {
  return ruleFilesIn(files, PROMETHEUS_DIR);
}

/** Series the generated recording rules record. */
export function recordedSeries(files: ReadonlyMap<string, string> = generateFiles()): Set<string> {
  const out = new Set<string>();
  for (const rules of ruleFilesOf(files).values()) for (const r of rules) if (r.record) out.add(r.record);
  return out;
}

/** The dashboards as generated. */
export function generatedDashboards(): readonly DashboardSpec[] {
  return output().dashboards;
}

/** Every runbook page. */
export function runbookPages(): readonly RunbookPageOf[] {
  return output().pages;
}

/** Every operational and absence alert with its tests (what the operational rule file holds). */
export function operationalAlerts(): readonly AlertSpec[] {
  return output().alerts;
}
