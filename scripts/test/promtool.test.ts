import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PROMETHEUS_DIR, generateFiles } from '../generate/generate.js';

// CI installs Debian's `prometheus` package (which ships promtool); a machine without it fails here by name.
const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
const dir = mkdtempSync(join(tmpdir(), 'ballast-promtool-'));
const files = [...generateFiles()].filter(([p]) => p.startsWith(`${PROMETHEUS_DIR}/`));
for (const [path, content] of files) writeFileSync(join(dir, path.slice(PROMETHEUS_DIR.length + 1)), content);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]): { code: number; output: string } {
  const r = spawnSync('promtool', args, { cwd: dir, encoding: 'utf8' });
  return { code: r.status ?? -1, output: `${r.stdout}${r.stderr}` };
}

describe('generated Prometheus rules', () => {
  it('promtool is installed (Debian package `prometheus`)', () => {
    expect(promtool.error, 'promtool not found: apt-get install prometheus').toBeUndefined();
  });

  const ruleFiles = files
    .map(([p]) => p.slice(PROMETHEUS_DIR.length + 1))
    .filter((f) => !f.endsWith('.test.yaml'));
  const testFiles = files
    .map(([p]) => p.slice(PROMETHEUS_DIR.length + 1))
    .filter((f) => f.endsWith('.test.yaml'));

  it.each(ruleFiles)('promtool check rules %s', (file) => {
    const r = run(['check', 'rules', file]);
    expect(r.output).toMatch(/SUCCESS/);
    expect(r.code, r.output).toBe(0);
  });

  it.each(testFiles)('promtool test rules %s', (file) => {
    const r = run(['test', 'rules', file]);
    expect(r.code, r.output).toBe(0);
  });

  it('a broken expectation makes promtool test rules fail (the tests can fail)', () => {
    const [name, content] = files.find(([p]) => p.endsWith('operational-alerts.test.yaml'))!;
    const broken = content.replace(/severity: warning/, 'severity: critical');
    const file = `broken-${name.split('/').pop()!}`;
    writeFileSync(join(dir, file), broken);
    const r = run(['test', 'rules', file]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(/FAILED/);
  });
});
