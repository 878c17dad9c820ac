// Diagnostic: RetailFlow (ballast) at a fixed open-loop rate, with a CPU profile of the service. Usage:
// tsx /tmp/door/prof.ts <worktree> <rate> <outDir>
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
const [root, rateText, outDir] = process.argv.slice(2);
const { startService, scrape } = await import(`${root}/scripts/proof/service.ts`);
const { runLoad, runClosedLoop } = await import(`${root}/scripts/proof/load.ts`);
const { serviceUrl } = await import('@ballast/testkit');
mkdirSync(outDir!, { recursive: true });
const service = await startService(
  {
    SEED_STOCK: '100000000',
    DATABASE_URL: serviceUrl('postgres'),
    REDIS_URL: serviceUrl('redis'),
    AMQP_URL: serviceUrl('rabbitmq'),
    TENANT_INVENTORY_SHARE: '1',
    LOAD_SHEDDING: 'ballast',
    NODE_OPTIONS: '--require /tmp/door/prof-preload.cjs',
    PROF_OUT: `${outDir}/service.cpuprofile`,
  },
  { fresh: true },
);
execFileSync('taskset', ['-pc', '0', String(service.child.pid)]);
await runClosedLoop(service.url, 8, 3);
const rate = Number(rateText);
process.kill(service.child.pid!, 'SIGUSR2');
const r = await runLoad({ url: service.url, durationSec: 8, rate, connections: 512 });
process.kill(service.child.pid!, 'SIGUSR2');
await new Promise((r) => setTimeout(r, 3000));
const samples = await scrape(service.opsUrl);
const shed: Record<string, number> = {};
for (const s of samples) {
  if (s.name === 'ballast_load_shed_total' || s.name === 'ballast_policy_rejections_total')
    shed[`${s.name.replace('ballast_', '')}{${Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(',')}}`] = s.value;
}
const c = r.classes.critical;
const sh = r.classes.sheddable;
console.log(JSON.stringify({ rate, critical: { sent: c.sent, ok: c.ok, good: c.good, statuses: c.statuses }, sheddable: { sent: sh.sent, ok: sh.ok, good: sh.good, statuses: sh.statuses }, p99: r.p99, shed }, null, 1));
await service.stop();
