// The overload section, Ballast only, repeated with settings to compare: faster to iterate on than the section.
// Each `--variant NAME:K=V,K=V` is a set of RetailFlow environment overrides; the runs alternate between variants
// (pinned as the section pins: service on CPU 0, this process and PostgreSQL's postmaster on CPU 1). Hold the lock:
//   flock /work/bench.lock npx tsx scripts/proof/overload-probe.ts --runs 3 --variant base: --variant cap6:INGRESS_CRITICAL_LIMIT=6
// Prints each run's log and, per variant, the goals' figures (median and spread); `--out` writes them as JSON.
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { serviceUrl } from '@ballast/testkit';
import { overload, type OverloadRunFigures } from './overload.js';
import { dropFreshDatabases, parseVariants } from './service.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '3' },
    variant: { type: 'string', multiple: true, default: ['base:'] },
    'step-sec': { type: 'string', default: '2' },
    full: { type: 'boolean', default: false },
    flood: { type: 'boolean', default: false },
    modes: { type: 'string', default: 'ballast' },
    multiples: { type: 'string', default: '1,2,4' },
    out: { type: 'string' },
  },
});
const started = performance.now();
const log = (line: string) => console.log(`[probe ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const databaseUrl = serviceUrl('postgres');
const base: Record<string, string> = {
  SEED_STOCK: '100000000',
  DATABASE_URL: databaseUrl,
  REDIS_URL: serviceUrl('redis'),
  AMQP_URL: serviceUrl('rabbitmq'),
};
const variants = parseVariants(values.variant);
const results: Record<string, OverloadRunFigures[]> = {};
for (let i = 0; i < Number(values.runs); i++) {
  for (const variant of variants) {
    log(`run ${i + 1}, variant ${variant.name} ${JSON.stringify(variant.env)}`);
    const r = await overload({
      rampConnections: values.full ? [2, 4, 8, 16, 32] : [2, 8, 32],
      rampSec: 2,
      stepSec: Number(values['step-sec']),
      warmSec: values.full ? 2 : 1,
      modes: values.modes.split(',') as ('ballast' | 'none' | 'toobusy')[],
      multiples: values.multiples.split(',').map(Number),
      repeats: { pinned: 1, unpinned: 0 },
      databaseUrl,
      tenantFlood: values.flood === true,
      env: { ...base, ...variant.env },
      log,
    });
    (results[variant.name] ??= []).push(...r.runs);
  }
}
await dropFreshDatabases(databaseUrl).catch(() => undefined);

const median = (xs: number[]) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  const m = s.length / 2;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[Math.floor(m)]! : (s[m - 1]! + s[m]!) / 2;
};
const show = (xs: number[], pct = true) => {
  const f = (v: number) => (pct ? `${(v * 100).toFixed(0)}%` : v.toFixed(0));
  return `${f(median(xs))} [${xs.map(f).join(' ')}]`;
};
for (const [name, runs] of Object.entries(results)) {
  log(
    `${name}: checkouts at 4x of alone ${show(runs.map((r) => r.criticalOfAlone))}; cost-weighted ` +
      `${show(runs.map((r) => r.costWeighted.ballast ?? Number.NaN))}; reads at 1x ${show(runs.map((r) => r.sheddableServedAtMost1x))}; ` +
      `p99 4x ${show(runs.map((r) => r.criticalP99), false)} ms vs unloaded ${show(runs.map((r) => r.unloadedCriticalP99), false)}; ` +
      `served 4x checkouts ${show(runs.map((r) => r.criticalServed))} reads ${show(runs.map((r) => r.sheddableServed))}`,
  );
}
if (values.out !== undefined) await writeFile(values.out, JSON.stringify(results, null, 2));
