import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SOURCE_CONDITION, publishedManifest, sourceOf } from '../release/manifest.js';

const PUBLISHED = ['core', 'resilience', 'slo', 'telemetry'];

describe('publishedManifest', () => {
  it.each(PUBLISHED)(
    'removes the repository-only source condition from @ballast/%s and keeps the rest',
    (name) => {
      const committed = readFileSync(new URL(`../../packages/${name}/package.json`, import.meta.url), 'utf8');
      const published = publishedManifest(committed);
      const before = JSON.parse(committed) as Record<string, unknown>;
      const after = JSON.parse(published) as Record<string, unknown>;
      expect(Object.keys(after)).toEqual(Object.keys(before));
      expect(JSON.stringify(before.exports)).toContain(SOURCE_CONDITION);
      expect(JSON.stringify(after.exports)).not.toContain(SOURCE_CONDITION);
      expect({ ...after, exports: undefined }).toEqual({ ...before, exports: undefined });
      expect(after.exports).toHaveProperty(['.', 'default'], './dist/index.js');
      expect(after.exports).toHaveProperty(['.', 'types'], './dist/index.d.ts');
    },
  );

  it('strips the condition at any depth and leaves string exports alone', () => {
    const committed = JSON.stringify({
      name: 'x',
      exports: {
        '.': { node: { '@ballast/source': './src/a.ts', default: './dist/a.js' } },
        './b': './dist/b.js',
      },
    });
    expect(JSON.parse(publishedManifest(committed))).toEqual({
      name: 'x',
      exports: { '.': { node: { default: './dist/a.js' } }, './b': './dist/b.js' },
    });
  });
});

describe('publishable packages', () => {
  it.each(PUBLISHED)('@ballast/%s is installable on its own from a registry', (name) => {
    const pkg = JSON.parse(
      readFileSync(new URL(`../../packages/${name}/package.json`, import.meta.url), 'utf8'),
    ) as Record<string, Record<string, string> | undefined>;
    for (const [dep, range] of Object.entries(pkg.dependencies ?? {})) {
      if (dep.startsWith('@ballast/')) expect(range, dep).toMatch(/^\^\d+\.\d+\.\d+$/);
    }
    expect(pkg.files).toContain('!dist/.tsbuildinfo');
    expect(pkg.files).toContain('LICENSE');
    expect(readFileSync(new URL(`../../packages/${name}/LICENSE`, import.meta.url), 'utf8')).toBe(
      readFileSync(new URL('../../LICENSE', import.meta.url), 'utf8'),
    );
  });
});

describe('sourceOf', () => {
  it.each([
    ['index.js', 'index.ts'],
    ['index.d.ts', 'index.ts'],
    ['cli/main.js.map', 'cli/main.ts'],
    ['cli/main.d.ts.map', 'cli/main.ts'],
    ['.tsbuildinfo', undefined],
  ])('%s comes from %s', (output, source) => {
    expect(sourceOf(output)).toBe(source);
  });
});

describe('commands', () => {
  // npm links a workspace's commands at install time, before `prepare` builds dist/: a command whose file is under
  // dist/ is not linked on a fresh clone, and `npx ballast-slo` does not resolve at the root.
  it.each(PUBLISHED)('@ballast/%s links its commands to files that exist before any build', (name) => {
    const pkg = JSON.parse(
      readFileSync(new URL(`../../packages/${name}/package.json`, import.meta.url), 'utf8'),
    ) as { bin?: Record<string, string> };
    for (const [command, file] of Object.entries(pkg.bin ?? {})) {
      expect(file, command).not.toMatch(/^(\.\/)?dist\//);
      expect(existsSync(new URL(`../../packages/${name}/${file}`, import.meta.url)), command).toBe(true);
    }
  });
});
