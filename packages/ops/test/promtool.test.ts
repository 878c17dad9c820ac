import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isRuleFile } from '../src/generate.js';
import { PROMETHEUS_CONFIG, PROMETHEUS_DIR, generateFiles } from './support/retailflow.js';

// CI installs Debian's `prometheus` package (which ships promtool); a machine without it fails here by name.
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'ballast-promtool-'));
const files = [...generateFiles()]
  .filter(([p]) => p.startsWith(`${PROMETHEUS_DIR}/`))
  .map(([p, content]) => [p.slice(PROMETHEUS_DIR.length + 1), content] as const);
for (const [path, content] of files) {
  mkdirSync(dirname(join(dir, path)), { recursive: true });
  writeFileSync(join(dir, path), content);
}
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs promtool on `file` from the file's own directory (test files name their rules files relative to it). */
function promtoolOn(
  command: 'check' | 'test',
  file: string,
  what: 'rules' | 'config' = 'rules',
): { code: number; output: string } {
  const r = spawnSync('promtool', [command, what, file.split('/').pop()!], {
    cwd: dirname(join(dir, file)),
    encoding: 'utf8',
  });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

const name = (path: string): string => path.split('/').pop()!;
const ruleFiles = files.map(([p]) => p).filter((p) => isRuleFile(name(p)));
const testFiles = files.map(([p]) => p).filter((p) => /\.test\.ya?ml$/.test(p));

describe('generated Prometheus rules', () => {
  it('promtool is installed (Debian package `prometheus`)', () => {
    expect(promtool.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
  });

  it('has the operational and the SLO rules, each with tests', () => {
    expect(ruleFiles).toEqual(expect.arrayContaining(['operational-alerts.yaml', 'slo-rules.yaml']));
    expect(testFiles).toContain('operational-alerts.test.yaml');
    expect(testFiles.filter((f) => f.startsWith('slo-tests/')).length).toBeGreaterThan(0);
  });

  it.each(ruleFiles)('promtool check rules %s', (file) => {
    const r = promtoolOn('check', file);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.code, r.output).toBe(0);
  });

  it(`promtool check config ${PROMETHEUS_CONFIG} (it loads every rules file)`, () => {
    // The scrape reads RetailFlow's ops token from a file next to the config (mounted in a real deployment).
    writeFileSync(join(dirname(join(dir, PROMETHEUS_CONFIG)), 'ops-token'), 'rf_ops_dev_token\n');
    const r = promtoolOn('check', PROMETHEUS_CONFIG, 'config');
    expect(r.code, r.output).toBe(0);
    for (const file of ruleFiles.filter((f) => !f.includes('/'))) expect(r.output).toContain(file);
  });

  // The SLO tests run both rule forms over more than a day of 1m steps: minutes on a busy machine.
  it.each(testFiles)('promtool test rules %s', { timeout: 600_000 }, (file) => {
    const r = promtoolOn('test', file);
    expect(r.code, r.output).toBe(0);
  });

  it('a broken expectation makes promtool test rules fail (the tests can fail)', () => {
    const content = files.find(([p]) => p === 'operational-alerts.test.yaml')![1];
    writeFileSync(join(dir, 'broken.test.yaml'), content.replace(/severity: warning/, 'severity: critical'));
    const r = promtoolOn('test', 'broken.test.yaml');
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});
