import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@ballast/core';
import { testService } from '@ballast/testkit/vitest';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG, type RetailFlowConfig } from '../src/config.js';
import { openRepository, type SqlRepository } from '../src/data/index.js';
import { sqlSnapshotStore } from '../src/data/slo-snapshots.js';
import type { SloReport } from '../src/ops/slo-view.js';
import { sloSnapshotKey } from '../src/service.js';
import { ACME, OPS, T0, call, order, settle, startTestService } from './helpers.js';

const DAY = 86_400_000;
const postgres = testService('postgres');
const runId = `rf_slo_${process.pid}_${randomBytes(3).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'retailflow-slo-'));

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (postgres.skip) return;
  const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
  try {
    const { rows } = await admin.query<{ nspname: string }>(
      'SELECT nspname FROM pg_namespace WHERE nspname LIKE $1',
      [`${runId}%`],
    );
    for (const { nspname } of rows) await admin.query(`DROP SCHEMA ${nspname} CASCADE`);
  } finally {
    await admin.end();
  }
});

/** Each store the service runs on: a SQLite file, and a PostgreSQL schema of its own when PostgreSQL is up. */
const stores: { name: string; skip: boolean; config: () => Partial<RetailFlowConfig>; schema?: string }[] = [
  { name: 'SQLite', skip: false, config: () => ({ sqlitePath: join(dir, 'slo.db') }) },
  {
    name: 'PostgreSQL',
    skip: postgres.skip,
    config: () => ({ databaseUrl: postgres.url }),
    schema: `${runId}_restart`,
  },
];

async function report(opsUrl: string): Promise<SloReport> {
  const answer = await call<SloReport>(opsUrl, 'GET', '/api/v1/slo', { key: OPS });
  expect(answer.status).toBe(200);
  return answer.body;
}

const checkout = (r: SloReport) => r.slos.find((s) => s.name === 'checkout-availability')!;

describe.each(stores)('SLO engine state across a restart ($name)', ({ skip, config, schema }) => {
  it.skipIf(skip)(
    'a restart mid-window keeps the budget spent, the policy and the flags; the page says it was restored',
    async () => {
      const options = schema === undefined ? {} : { databaseSchema: schema };
      const first = await startTestService(config(), options);
      const { service: a, clock } = first;
      try {
        const state = await report(a.opsUrl);
        expect(state.source).toMatchObject({ kind: 'local', state: 'no snapshot yet: counting from now' });
        for (let i = 0; i < 20; i++)
          expect((await settle(clock, order(a.url, ACME, `ok-${i}`))).status).toBe(201);
        clock.advance(3 * DAY);
        a.provider!.setKnobs({ down: true });
        for (let i = 0; i < 3; i++)
          expect((await settle(clock, order(a.url, ACME, `burn-${i}`))).status).toBe(503);
        a.provider!.setKnobs({ down: false });
        expect(a.slos.policy('checkout-availability')).toBe('exhausted');
      } finally {
        await a.shutdown(); // saves the last snapshot before the store closes
      }
      const before = a.slos.engine.status('checkout-availability');

      // The same instant in a new process: the budget is what it was, not a fresh 100%.
      const again = await startTestService(config(), { ...options, clock: new ManualClock(clock.now()) });
      const b = again.service;
      try {
        const after = b.slos.engine.status('checkout-availability');
        expect(after.errorBudget).toEqual(before.errorBudget);
        expect(after.events).toEqual(before.events);
        expect(b.slos.policy('checkout-availability')).toBe('exhausted');
        const page = await report(b.opsUrl);
        expect(checkout(page).policy).toBe('exhausted');
        expect(page.source?.state).toMatch(/^restored 3 SLOs from a snapshot taken at /);
        const flags = await call<{ flags: { name: string; enabled: boolean; reason: string }[] }>(
          b.url,
          'GET',
          '/api/v1/flags',
          { key: ACME },
        );
        expect(flags.body.flags.find((f) => f.name === 'recommendations')).toMatchObject({
          enabled: false,
          reason: 'error budget of checkout-availability exhausted',
        });
        const html = await call<string>(b.opsUrl, 'GET', '/slo', { key: OPS });
        expect(html.body).toContain('Engine state: restored 3 SLOs from a snapshot taken at');
      } finally {
        await b.shutdown();
      }
    },
    120_000,
  );
});

describe('replicas sharing a database', () => {
  it("never restore each other's counts: each instance has its own row", async () => {
    const sqlitePath = join(dir, 'replicas.db');
    const a = await startTestService({ sqlitePath });
    try {
      expect((await settle(a.clock, order(a.service.url, ACME, 'replica-a'))).status).toBe(201);
    } finally {
      await a.service.shutdown();
    }
    // Another instance on the same database (another host or PORT) starts from zero, and says so.
    const b = await startTestService({ sqlitePath, sloSnapshotKey: 'retailflow@replica-b:3000' });
    try {
      expect((await report(b.service.opsUrl)).source?.state).toBe('no snapshot yet: counting from now');
      expect(b.service.slos.engine.status('checkout-availability').events.good).toBe(0);
    } finally {
      await b.service.shutdown();
    }
    // The first instance, restarted, gets its own back.
    const again = await startTestService({ sqlitePath });
    try {
      expect(again.service.slos.engine.status('checkout-availability').events.good).toBe(1);
    } finally {
      await again.service.shutdown();
    }
  });
});

describe('a snapshot that cannot be restored', () => {
  it('starts the engine fresh and says why on /slo; the service serves as usual', async () => {
    const sqlitePath = join(dir, 'corrupt.db');
    const repo = await openRepository({ sqlitePath, clock: new ManualClock(T0) });
    const key = sloSnapshotKey({ ...DEFAULT_CONFIG, port: 0 }); // the instance startTestService starts
    expect(key).toBe(`retailflow@${hostname()}:0`);
    await sqlSnapshotStore((repo as SqlRepository).driver, key).save('{"format": "trunc', T0);
    await repo.close();

    const { service, clock } = await startTestService({ sqlitePath });
    try {
      const page = await report(service.opsUrl);
      expect(page.source?.state).toMatch(/^not restored, counting from now: SLO engine snapshot: not JSON/);
      expect(checkout(page).errorBudgetRemaining).toBe(1);
      expect((await settle(clock, order(service.url, ACME, 'after-corrupt'))).status).toBe(201);
    } finally {
      await service.shutdown();
    }
    // The shutdown replaced the corrupt snapshot with a good one.
    const reopened = await startTestService({ sqlitePath });
    try {
      expect((await report(reopened.service.opsUrl)).source?.state).toMatch(/^restored 3 SLOs/);
      expect(reopened.service.slos.engine.status('checkout-availability').events.good).toBe(1);
    } finally {
      await reopened.service.shutdown();
    }
  });

  it('never lets an older snapshot overwrite a newer one', async () => {
    const repo = await openRepository({ sqlitePath: join(dir, 'order.db'), clock: new ManualClock(T0) });
    try {
      const store = sqlSnapshotStore((repo as SqlRepository).driver, 'retailflow');
      expect(await store.load()).toBeUndefined();
      await store.save('newer', T0 + 2000);
      await store.save('older', T0 + 1000);
      expect(await store.load()).toBe('newer');
      await store.save('newest', T0 + 3000);
      expect(await store.load()).toBe('newest');
      expect(await sqlSnapshotStore((repo as SqlRepository).driver, 'other').load()).toBeUndefined();
    } finally {
      await repo.close();
    }
  });
});
