import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateRuleTests, generateRules, loadSlos } from '@ballast/slo';

/**
 * Writes the Prometheus rules for the SLOs in `specFiles` to `<outDir>/slo-rules.yml` and their promtool tests to
 * `<outDir>/tests/`; returns the alert names, one runbook each (`runbooks/<AlertName>.md`).
 */
export async function writePrometheusRules(specFiles: string[], outDir: string): Promise<string[]> {
  const slos = await loadSlos(specFiles);
  const options = { runbookBaseUrl: 'https://github.com/acme/shop/blob/main' };
  const { yaml, alerts } = generateRules(slos, options);
  mkdirSync(join(outDir, 'tests'), { recursive: true });
  writeFileSync(join(outDir, 'slo-rules.yml'), yaml);
  for (const file of generateRuleTests(slos, options)) {
    writeFileSync(join(outDir, 'tests', file.path), file.content); // promtool test rules tests/*.test.yml
  }
  return alerts.map((a) => a.alert);
}
