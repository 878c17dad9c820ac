/**
 * Runs every `*.bench.ts` in this folder, in name order, each in this one process with its baseline, then prints
 * one table and, as the very last line, one JSON object merging every bench's results and ratios.
 *
 * A bench file exports `run(): Promise<{ results, ratios }>`. Run one alone with `tsx bench/index.ts <name>`.
 */
import { readdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchResult, report } from '@ballast/testkit';

interface BenchModule {
  run(): Promise<{ results: BenchResult[]; ratios: Record<string, number> }>;
}

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv.slice(2);
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => only.length === 0 || only.includes(f.replace(/\.bench\.ts$/, '')))
  .sort();

const results: BenchResult[] = [];
const ratios: Record<string, number> = {};
for (const file of files) {
  const started = performance.now();
  const mod = (await import(pathToFileURL(`${here}/${file}`).href)) as BenchModule;
  const out = await mod.run();
  results.push(...out.results);
  Object.assign(ratios, out.ratios);
  console.log(`${file}: ${out.results.length} rows in ${Math.round(performance.now() - started)} ms`);
}
report('resilience', results, ratios, {
  node: process.version,
  date: new Date().toISOString().slice(0, 10),
});
