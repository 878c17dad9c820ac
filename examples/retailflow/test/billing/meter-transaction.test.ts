import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { periodAt } from '../../src/billing/period.js';
import { usageExportCommand } from '../../src/billing/export-command.js';
import { recordUsage, UsageLedger } from '../../src/billing/usage.js';
import { applyMigrations, SqlRepository, type SqlDriver, type SqlSession } from '../../src/data/index.js';
import { SqliteDriver } from '../../src/data/sqlite-driver.js';

/** A driver whose transactions fail at the first statement matching `failOn` while `armed` (a crash there). */
class CrashingDriver implements SqlDriver {
  armed = false;
  constructor(
    readonly inner: SqlDriver,
    readonly failOn: RegExp,
  ) {}
  get dialect() {
    return this.inner.dialect;
  }
  transaction<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    return this.inner.transaction((s) =>
      fn({
        all: (sql, params) => s.all(sql, params),
        exec: (sql) => s.exec(sql),
        run: (sql, params) => {
          if (this.armed && this.failOn.test(sql)) return Promise.reject(new Error('crash'));
          return s.run(sql, params);
        },
      }),
    );
  }
  read<T>(fn: (s: SqlSession) => Promise<T>): Promise<T> {
    return this.inner.read(fn);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

describe('the usage meter shares the order transaction', () => {
  it('a crash after the meter write loses the unit with the confirmation; the retry meters it exactly once', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5));
    const sqlite = new SqliteDriver(':memory:');
    await applyMigrations(sqlite, clock);
    // The meter row is written before the outbox event: failing the outbox insert fails after the meter wrote.
    const driver = new CrashingDriver(sqlite, /INSERT INTO outbox/);
    const repo = new SqlRepository(driver, { clock });
    const ledger = new UsageLedger(driver);
    await repo.upsertTenant({ id: 't1', name: 'T', plan: 'free', apiKeyHash: 'h1' });
    await repo.ensureProduct({
      tenantId: 't1',
      id: 'p1',
      name: 'P',
      priceCents: 100,
      currency: 'EUR',
      stock: 5,
    });
    const created = await repo.createOrder({
      tenantId: 't1',
      idempotencyKey: 'k1',
      requestHash: 'r1',
      items: [{ productId: 'p1', quantity: 1 }],
    });
    if (created.outcome !== 'created') throw new Error(created.outcome);
    const period = periodAt(clock.now(), 'UTC');
    const pay = () =>
      repo.recordPayment({
        tenantId: 't1',
        orderId: created.order.id,
        payment: { ok: true, paymentId: 'pay1' },
      });

    driver.armed = true;
    await expect(pay()).rejects.toThrow('crash');
    expect(await ledger.total('t1', 'order.placed', period)).toBe(0);
    expect((await repo.getOrder('t1', created.order.id))?.status).toBe('pending');

    driver.armed = false;
    expect((await pay()).outcome).toBe('updated');
    expect((await pay()).outcome).toBe('unchanged');
    expect(await ledger.total('t1', 'order.placed', period)).toBe(1);
    expect(await ledger.list({ from: period.start, to: period.end })).toEqual([
      {
        id: `order.placed/t1/${created.order.id}`,
        tenantId: 't1',
        type: 'order.placed',
        subject: created.order.id,
        quantity: 1,
        occurredAt: clock.now(),
      },
    ]);
    await repo.close();
  });
});

describe('usage-export', () => {
  it('prints a period as CloudEvents, one tenant or all, and says what it expected on bad arguments', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 31, 23, 30));
    const sqlite = new SqliteDriver(':memory:');
    await applyMigrations(sqlite, clock);
    await sqlite.transaction(async (s) => {
      await recordUsage(s, {
        type: 'order.placed',
        tenantId: 'a',
        subject: 'o1',
        quantity: 1,
        occurredAt: clock.now(),
      });
      await recordUsage(s, {
        type: 'order.placed',
        tenantId: 'b',
        subject: 'o2',
        quantity: 1,
        occurredAt: clock.now(),
      });
    });
    const all = await usageExportCommand(['--period', '2026-01'], sqlite);
    expect(all.map((e) => [e.id, e.time])).toEqual([
      ['order.placed/a/o1', '2026-01-31T23:30:00.000Z'],
      ['order.placed/b/o2', '2026-01-31T23:30:00.000Z'],
    ]);
    // 23:30 UTC on 31 January is already February in Paris.
    expect(await usageExportCommand(['--period', '2026-01', '--time-zone', 'Europe/Paris'], sqlite)).toEqual(
      [],
    );
    expect(
      await usageExportCommand(['--period', '2026-01', '--tenant', 'b', '--source', '/rf/eu'], sqlite),
    ).toEqual([
      expect.objectContaining({ id: 'order.placed/b/o2', source: '/rf/eu', subject: 'tenants/b/orders/o2' }),
    ]);
    await expect(usageExportCommand([], sqlite)).rejects.toThrow('Expected `--period YYYY-MM`');
    await expect(usageExportCommand(['--period', 'jan'], sqlite)).rejects.toThrow('a month as `YYYY-MM`');
    await sqlite.close();
  });
});
