import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@ballast/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteRepository, requestHash, seedDemoData } from '../src/data/index.js';
import { rebuildCommand } from '../src/data/rebuild-command.js';

const root = fileURLToPath(new URL('..', import.meta.url));
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'retailflow-rebuild-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A store file with orders in every state, one of them left mid-checkout by a process that died. */
async function storeWithOrders(path: string) {
  const clock = new ManualClock(1_700_000_000_000);
  const repo = await createSqliteRepository({ path, clock });
  await seedDemoData(repo, { apiKeys: { acme: 'acme-rebuild-key', globex: 'globex-rebuild-key' } });
  const ids: string[] = [];
  for (let i = 0; i < 4; i++) {
    const items = [{ productId: 'sku-mug', quantity: i + 1 }];
    const created = await repo.createOrder({
      tenantId: 'acme',
      idempotencyKey: `k${i}`,
      requestHash: requestHash({ items }),
      items,
    });
    if (created.outcome !== 'created') throw new Error(created.outcome);
    ids.push(created.order.id);
  }
  await repo.recordPayment({ tenantId: 'acme', orderId: ids[0]!, payment: { ok: true, paymentId: 'p0' } });
  await repo.recordPayment({
    tenantId: 'acme',
    orderId: ids[1]!,
    payment: { ok: false, failure: 'unavailable', reason: 'timeout' },
  });
  await repo.cancelOrder({ tenantId: 'acme', orderId: ids[2]! });
  // ids[3]: the process died between the reservation and the charge.
  return { repo, ids };
}

describe('rebuild-projections', () => {
  it('checks (rolled back, exit 1 on drift) and rebuilds the projections of a store', async () => {
    const { repo, ids } = await storeWithOrders(join(dir, 'store.db'));
    expect(await rebuildCommand(['--check'], repo)).toMatchObject({
      exitCode: 0,
      report: { orders: 4, openSagas: 3, drift: 0, dryRun: true },
    });
    await repo.driver.transaction((s) =>
      s.run("UPDATE orders SET status = 'fulfilled' WHERE id = ?", [ids[3]]).then(() => undefined),
    );
    expect(await rebuildCommand(['--check'], repo)).toMatchObject({ exitCode: 1, report: { drift: 2 } });
    expect(await rebuildCommand([], repo)).toMatchObject({
      exitCode: 0,
      report: { drift: 2, dryRun: false },
    });
    expect((await repo.getOrder('acme', ids[3]!))?.status).toBe('pending');
    await expect(rebuildCommand(['--force'], repo)).rejects.toThrow(
      'Expected `arguments` to be nothing, or `--check`',
    );
    await repo.close();
  });

  it('runs as a command against the configured store and prints its report', async () => {
    const path = join(dir, 'cli.db');
    const { repo } = await storeWithOrders(path);
    await repo.close();
    // The command reads the store the environment configures: this SQLite file, not a PostgreSQL the shell may name.
    const env: NodeJS.ProcessEnv = { ...process.env, SQLITE_PATH: path };
    delete env.DATABASE_URL;
    const run = spawnSync(
      process.execPath,
      ['--conditions=@ballast/source', '--import', 'tsx', 'src/data/rebuild-main.ts', '--check'],
      { cwd: root, env, encoding: 'utf8', timeout: 60_000 },
    );
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ orders: 4, events: 7, drift: 0, dryRun: true });
  }, 90_000);
});
