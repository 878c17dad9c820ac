import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeGenerated } from '../src/write.js';
import {
  GENERATED_DIRS,
  REPOSITORY_ROOT,
  SERVICE,
  SLO_SPEC,
  generateFiles,
  operationalAlerts,
} from './support/retailflow.js';

const OPERATIONAL_ALERTS = operationalAlerts();

const files = generateFiles();

describe('npm run generate', () => {
  it('writes the same bytes twice (deterministic)', () => {
    expect([...generateFiles()]).toEqual([...files]);
  });

  it('writes no timestamps', () => {
    for (const [path, content] of files) expect(content, path).not.toMatch(/\b20\d\d-\d\d-\d\d[T ]\d\d:\d\d/);
  });

  it('writes only inside the generated directories, sorted, each file ending with a newline', () => {
    const paths = [...files.keys()];
    expect(paths).toEqual([...paths].sort());
    for (const path of paths) {
      expect(
        GENERATED_DIRS.some((d) => path.startsWith(`${d}/`)),
        path,
      ).toBe(true);
      expect(files.get(path)!.endsWith('\n'), path).toBe(true);
    }
  });

  it('writes dashboards with keys sorted at every level', () => {
    const sorted = (value: unknown): boolean => {
      if (Array.isArray(value)) return value.every(sorted);
      if (value === null || typeof value !== 'object') return true;
      const keys = Object.keys(value);
      return keys.join() === [...keys].sort().join() && Object.values(value).every(sorted);
    };
    for (const [path, content] of files)
      if (path.startsWith('dashboards/')) expect(sorted(JSON.parse(content)), path).toBe(true);
  });
});

describe('operational alerts', () => {
  it.each(OPERATIONAL_ALERTS.map((a) => [a.name, a] as const))(
    '%s has tests that prove it fires and resolves',
    (_, alert) => {
      // Test times are `10m`, `1m30s` or `45s`: compared in seconds.
      const minutes = (t: string) => {
        const m = /^(?:(\d+)m)?(?:(\d+)s)?$/.exec(t);
        return Number(m?.[1] ?? 0) * 60 + Number(m?.[2] ?? 0);
      };
      const firing = alert.tests.flatMap((t) => t.firing.map((f) => minutes(f.at)));
      expect(firing.length).toBeGreaterThan(0);
      // Resolves: some case is quiet after it fired; and quiet before `for` elapsed or in a healthy case.
      expect(
        alert.tests.some(
          (t) =>
            t.firing.length > 0 &&
            t.quiet.some((q) => minutes(q) > Math.max(...t.firing.map((f) => minutes(f.at)))),
        ),
      ).toBe(true);
      expect(
        alert.tests.some((t) =>
          t.quiet.some(
            (q) => t.firing.length === 0 || minutes(q) < Math.min(...t.firing.map((f) => minutes(f.at))),
          ),
        ),
      ).toBe(true);
    },
  );

  it('RetailFlowOutboxLagHigh uses the objective of the order-event-freshness SLO', () => {
    const spec = readFileSync(join(REPOSITORY_ROOT, SLO_SPEC), 'utf8');
    const freshness = spec.slice(spec.indexOf('name: order-event-freshness'));
    const alert = SERVICE.customAlerts.find((a) => a.name === 'RetailFlowOutboxLagHigh')!;
    const objective = /\) > (\d+)\n/.exec(alert.expr)![1]!;
    expect(freshness).toContain(`retailflow_outbox_lag_seconds_bucket{le="${objective}"}`);
  });
});

describe('writeGenerated', () => {
  it('creates, updates, leaves unchanged files alone, and prunes stale files and empty directories', () => {
    const root = mkdtempSync(join(tmpdir(), 'ballast-write-'));
    try {
      mkdirSync(join(root, 'out/old'), { recursive: true });
      writeFileSync(join(root, 'out/same.txt'), 'same\n');
      writeFileSync(join(root, 'out/changed.txt'), 'before\n');
      writeFileSync(join(root, 'out/old/stale.txt'), 'stale\n');
      writeFileSync(join(root, 'elsewhere.txt'), 'not owned\n');
      const before = statSync(join(root, 'out/same.txt')).mtimeMs;
      const result = writeGenerated(
        root,
        new Map([
          ['out/same.txt', 'same\n'],
          ['out/changed.txt', 'after\n'],
          ['out/new/file.txt', 'new\n'],
        ]),
        ['out'],
      );
      expect(result).toEqual({
        created: ['out/new/file.txt'],
        updated: ['out/changed.txt'],
        removed: ['out/old/stale.txt'],
      });
      expect(readFileSync(join(root, 'out/changed.txt'), 'utf8')).toBe('after\n');
      expect(statSync(join(root, 'out/same.txt')).mtimeMs).toBe(before);
      expect(existsSync(join(root, 'out/old'))).toBe(false);
      expect(existsSync(join(root, 'elsewhere.txt'))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
