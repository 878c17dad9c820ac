import { execFile } from 'node:child_process';
import { readdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../src/cli/command.js';
import { main } from '../src/cli/main.js';

const run = promisify(execFile);
const pkg = join(import.meta.dirname, '..');
const root = join(pkg, '..', '..');
const fixtures = join(import.meta.dirname, 'fixtures');

async function cli(
  args: string[],
  now = Date.UTC(2026, 0, 15),
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    cwd: fixtures,
    now: () => now,
  };
  const code = await main(args, io);
  return { code, stdout, stderr };
}

describe('ballast-slo', () => {
  it('prints the commands with --help and exits 0', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/validate\s+Check OpenSLO v1 spec files/);
    expect(r.stdout).toMatch(/status\s+Show SLI/);
  });

  it.each([
    [[]],
    [['frobnicate']],
    [['validate']],
    [['validate', '--nope', 'x.yaml']],
    [['status', '--at', 'yesterday', 'valid']],
  ])('exits 2 on the usage error %j', async (args) => {
    const r = await cli(args);
    expect(r.code).toBe(2);
    expect(r.stderr.length).toBeGreaterThan(0);
    expect(r.stdout).toBe('');
  });

  it.each(['validate', 'status'])('%s --help describes the command and exits 0', async (name) => {
    const r = await cli([name, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Usage: ballast-slo ${name}`);
    expect(r.stdout).toContain('Exit codes');
  });
});

describe('ballast-slo validate', () => {
  it('lists the SLOs of valid files (a directory expands to its YAML files) and exits 0', async () => {
    const r = await cli(['validate', 'valid']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('ok: 3 SLOs in 2 files');
    expect(r.stdout).toContain('checkout/checkout-latency  99% over 1M Europe/Berlin, latency, Occurrences');
  });

  it.each(readdirSync(join(fixtures, 'invalid')).sort())(
    'exits 1 on invalid/%s with a located error on stderr',
    async (file) => {
      const r = await cli(['validate', join('invalid', file)]);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^invalid/${file.replace('.', '\\.')}:\\d+:\\d+: `));
    },
  );

  it('exits 1 on a file that does not exist', async () => {
    const r = await cli(['validate', 'nope.yaml']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('nope.yaml:1:1: cannot read the file (ENOENT)');
  });
});

describe('ballast-slo status', () => {
  it('replays an events file into the engine and prints the table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-slo-'));
    const events: string[] = ['# one day of traffic, then a bad hour'];
    const start = Date.UTC(2026, 0, 10);
    for (let m = 0; m < 24 * 60; m++) {
      events.push(JSON.stringify({ t: start + m * 60_000, slo: 'checkout-availability', good: 1000 }));
    }
    for (let m = 0; m < 60; m++) {
      events.push(
        JSON.stringify({
          t: new Date(start + (24 * 60 + m) * 60_000).toISOString(),
          slo: 'checkout-availability',
          good: 900,
          bad: 100,
        }),
      );
    }
    writeFileSync(join(dir, 'events.ndjson'), `${events.join('\n')}\n`);
    const at = new Date(start + 25 * 3_600_000).toISOString();
    const r = await cli(['status', '--events', join(dir, 'events.ndjson'), '--at', at, 'valid']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^SLO\s+SERVICE\s+OBJECTIVE\s+WINDOW\s+SLI\s+BUDGET LEFT\s+BURN\s+EXHAUSTED IN\s+FIRING\s+POLICY$/,
    );
    const row = lines.find((l) => l.startsWith('checkout-availability'))!;
    // 100 bad of 1,000 is an error ratio of 10%: a burn rate of 100 at 99.9%. An hour of it spends 100/720 of a
    // 30-day budget (13.9%), and what is left lasts 0.861 × 30d / 100 = 6h 12m. Both conditions fire.
    expect(row).toContain('100.00 (1h)');
    expect(row).toContain('86.1%');
    expect(row).toContain('6h 12m');
    expect(row).toContain('fast-burn,slow-burn');
    expect(row).toMatch(/ ok$/);
  });

  it('exits 3 when an error budget is exhausted (it exited 0, so it could not gate a deploy)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-slo-'));
    const start = Date.UTC(2026, 0, 10);
    const events = Array.from({ length: 600 }, (_, m) =>
      JSON.stringify({ t: start + m * 60_000, slo: 'checkout-availability', good: 900, bad: 100 }),
    );
    writeFileSync(join(dir, 'spent.ndjson'), `${events.join('\n')}\n`);
    // Ten hours at a burn rate of 100 spend more than a 30-day budget.
    const r = await cli(['status', '--events', join(dir, 'spent.ndjson'), 'valid']);
    expect(r.stdout).toMatch(/checkout-availability .* exhausted$/m);
    expect(r.stderr).toBe('error budget exhausted: checkout-availability\n');
    expect(r.code).toBe(3);
  });

  it('prints JSON with --json at a given time', async () => {
    const r = await cli(['status', '--json', '--at', '2026-02-01T00:00:00Z', 'valid']);
    expect(r.code).toBe(0);
    const statuses = JSON.parse(r.stdout) as { slo: string; at: number; sli: null }[];
    expect(statuses.map((s) => s.slo)).toEqual([
      'checkout-availability',
      'checkout-latency',
      'checkout-uptime',
    ]);
    expect(statuses[0]!.at).toBe(Date.UTC(2026, 1, 1));
    expect(statuses[0]!.sli).toBeNull();
  });

  it('exits 1 with a located error for a bad events line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ballast-slo-'));
    writeFileSync(
      join(dir, 'e.ndjson'),
      '{"t": 0, "slo": "checkout-availability", "good": 1}\n{"t": 1, "slo": "nope"}\n',
    );
    const r = await cli(['status', '--events', join(dir, 'e.ndjson'), 'valid']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      'e.ndjson:2:1: slo: expected one of checkout-availability, checkout-latency, checkout-uptime, got "nope"',
    );
  });
});

describe('the built ballast-slo binary', () => {
  beforeAll(async () => {
    await run('npx', ['tsc', '-b', 'packages/slo/tsconfig.build.json'], { cwd: root });
  }, 60_000);

  it('exits 1 with errors on stderr for an invalid spec, 0 for valid ones', async () => {
    const bin = join(pkg, 'dist', 'cli', 'main.js');
    const bad = await run('node', [bin, 'validate', 'invalid/target-too-high.yaml'], { cwd: fixtures }).then(
      (r) => ({ ...r, code: 0 }),
      (e: { code: number; stderr: string; stdout: string }) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'invalid/target-too-high.yaml:28:15: spec.objectives[0].target: expected a ratio',
    );
    const good = await run('node', [bin, 'validate', 'valid'], { cwd: fixtures });
    expect(good.stdout).toContain('ok: 3 SLOs');
  });
});
