import { execFile } from 'node:child_process';
import { cpSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, repoRoot } from './built.js';
import { installPackedApp } from './packed.js';

// The published `.d.ts` as a team outside this repository compiles them: the four packages are packed
// (`npm pack`), installed into a throwaway app, and the consumer files in `types/` are compiled there by the
// repository's TypeScript with `skipLibCheck: false`, under plain `strict` with and without
// `exactOptionalPropertyTypes`, for Node (`module: nodenext`) and for bundlers (`moduleResolution: bundler`).
// The consumer files assert exact result types (`exactly<T>()`), so a `T | undefined` where `T` belongs fails.
// Relies on `npm run build` having run (`npm install` runs it as `prepare`); `ensureBuilt` rebuilds stale output.

const run = promisify(execFile);
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');

const configs = [
  { module: 'nodenext', moduleResolution: 'nodenext', exactOptionalPropertyTypes: false },
  { module: 'nodenext', moduleResolution: 'nodenext', exactOptionalPropertyTypes: true },
  { module: 'esnext', moduleResolution: 'bundler', exactOptionalPropertyTypes: false },
  { module: 'esnext', moduleResolution: 'bundler', exactOptionalPropertyTypes: true },
] as const;

let app = '';

describe('the packed type declarations, compiled as users compile them', () => {
  beforeAll(() => {
    ensureBuilt();
    app = installPackedApp('ballast-consumer-types-');
    writeFileSync(
      join(app, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
    );
    cpSync(join(repoRoot, 'scripts', 'consumer', 'types'), join(app, 'src'), { recursive: true });
  }, 300_000);

  afterAll(() => {
    if (app) rmSync(dirname(app), { recursive: true, force: true });
  });

  it('installs every published package from its tarball, with its type declarations', () => {
    expect(readdirSync(join(app, 'node_modules', '@ballast')).sort()).toEqual([
      'core',
      'resilience',
      'slo',
      'telemetry',
    ]);
  });

  it.each(configs)(
    'strict, module $module, moduleResolution $moduleResolution, exactOptionalPropertyTypes $exactOptionalPropertyTypes',
    async (options) => {
      const name = `tsconfig.${options.moduleResolution}.${String(options.exactOptionalPropertyTypes)}.json`;
      writeFileSync(
        join(app, name),
        JSON.stringify({
          compilerOptions: {
            ...options,
            target: 'ES2022',
            lib: ['ES2022'],
            types: ['node'],
            strict: true,
            skipLibCheck: false,
            noEmit: true,
          },
          include: ['src'],
        }),
      );
      const result = await run(process.execPath, [tsc, '-p', name, '--pretty', 'false'], { cwd: app }).then(
        ({ stdout }) => stdout,
        (error: { stdout?: string; message: string }) => error.stdout || error.message,
      );
      expect(result).toBe('');
    },
    240_000, // one full check of every declaration file the packages pull in; slow on a loaded machine
  );
});
