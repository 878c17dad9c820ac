// The overload section's tenant flood alone, repeated: faster to iterate on than the whole section. Each run measures
// what the service serves of checkouts alone as the section does (a fresh service without shedding: closed-loop ramp,
// then checkouts alone at the knee), then runs the flood on a fresh Ballast service, pinned as the section pins
// (service on CPU 0; this process and PostgreSQL's postmaster on CPU 1) or unpinned. Hold the machine lock:
//   flock /work/bench.lock npx tsx scripts/proof/tenant-flood.ts --runs 4 --pinning pinned --out result.json
// Prints every run's detail (the quiet tenant's statuses, late answers and latencies, which policy refused what),
// then the fairness figures, median and spread; `--out` writes them as JSON. `--variant NAME:K=V,K=V` (repeatable)
// runs the flood with RetailFlow environment overrides, the variants alternating within each run; `--alone-rps N`
// takes N as the checkouts served alone instead of measuring them (the quiet tenant then sends N/5 a second, the
// flood 4N: the rate a faster machine measures, on this one).
//   flock /work/bench.lock npx tsx scripts/proof/tenant-flood.ts --runs 8 --alone-rps 160 --variant base:TENANT_CHECKOUT_QUEUE=0 --variant new:
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { serviceUrl } from '@ballast/testkit';
import { measureCapacity, tenantFlood, type TenantFloodResult } from './overload.js';
import { Pinning, postmasterPid } from './pinning.js';
import { dropFreshDatabases, parseVariants, startService, type ServiceProcess } from './service.js';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '4' },
    pinning: { type: 'string', default: 'pinned' },
    'step-sec': { type: 'string', default: '2' },
    variant: { type: 'string', multiple: true, default: ['default:'] },
    'alone-rps': { type: 'string' },
    out: { type: 'string' },
  },
});
const runs = Number(values.runs);
const stepSec = Number(values['step-sec']);
const pinnings = (values.pinning === 'both' ? ['pinned', 'unpinned'] : [values.pinning]).map((p) => p === 'pinned');
const started = performance.now();
const log = (line: string) => console.log(`[flood ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);
const databaseUrl = serviceUrl('postgres');
const env: Record<string, string> = {
  SEED_STOCK: '100000000',
  DATABASE_URL: databaseUrl,
  REDIS_URL: serviceUrl('redis'),
  AMQP_URL: serviceUrl('rabbitmq'),
};
// The quick proof's knobs.
const knobs = { rampConnections: [2, 8, 32], rampSec: 2, stepSec, warmSec: 1, env, log };
const variants = parseVariants(values.variant);
const aloneRps = values['alone-rps'] === undefined ? undefined : Number(values['alone-rps']);

if (pinnings[0] && !(await Pinning.available(os.cpus().length))) throw new Error('pinning unavailable here');
const postmaster = await postmasterPid(databaseUrl);
const results: {
  variant: string;
  pinned: boolean;
  checkoutsAloneRps: number;
  flood: TenantFloodResult | undefined;
}[] = [];
for (let i = 0; i < runs; i++) {
  for (const pinned of pinnings) {
    log(`run ${i + 1} of ${runs}, ${pinned ? 'pinned' : 'unpinned'}`);
    const pinning = new Pinning();
    try {
      if (pinned) {
        await pinning.pin(process.pid, '1', 'load generator');
        if (postmaster !== undefined) await pinning.pin(postmaster, '1', 'PostgreSQL postmaster').catch(() => undefined);
      }
      const pin = (service: ServiceProcess) =>
        pinned && service.child.pid !== undefined ? pinning.pin(service.child.pid, '0', 'RetailFlow') : Promise.resolve();
      let checkoutsAloneRps = aloneRps ?? Number.NaN;
      if (aloneRps === undefined) {
        const none = await startService({ ...env, TENANT_INVENTORY_SHARE: '1', LOAD_SHEDDING: 'none' }, { fresh: true });
        try {
          await pin(none);
          checkoutsAloneRps = (await measureCapacity(knobs, none)).perClass.checkoutsRps;
        } finally {
          await none.stop();
        }
      }
      for (const variant of i % 2 === 0 ? variants : [...variants].reverse()) {
        log(`  variant ${variant.name} ${JSON.stringify(variant.env)}`);
        const flood = await tenantFlood({ ...knobs, env: { ...env, ...variant.env } }, checkoutsAloneRps, pin);
        results.push({ variant: variant.name, pinned, checkoutsAloneRps, flood });
      }
    } finally {
      await pinning.release();
    }
  }
}
await dropFreshDatabases(databaseUrl).catch(() => undefined);

const pct = (v: number) => `${(v * 100).toFixed(0)}%`;
for (const [variant, pinned] of variants.flatMap((v) => pinnings.map((p) => [v.name, p] as const))) {
  const figures = results
    .filter((r) => r.pinned === pinned && r.variant === variant)
    .map((r) => r.flood?.fairness ?? Number.NaN)
    .filter((v) => Number.isFinite(v))
    .sort((a, b) => a - b);
  const mid = figures.length / 2;
  const median = figures.length % 2 === 1 ? figures[Math.floor(mid)]! : (figures[mid - 1]! + figures[mid]!) / 2;
  log(
    `${variant}, ${pinned ? 'pinned' : 'unpinned'} tenant fairness: median ${pct(median)}, ${pct(figures[0]!)}-${pct(figures[figures.length - 1]!)} ` +
      `over ${figures.length} runs (${figures.map(pct).join(', ')})`,
  );
}
if (values.out !== undefined) await writeFile(values.out, `${JSON.stringify(results, null, 2)}\n`);
