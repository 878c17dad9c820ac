import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { DEFAULT_CONFIG, startRetailFlow, type RetailFlow } from '@ballast/retailflow';
import { servicesRequired } from '@ballast/testkit';
import { testService } from '@ballast/testkit/vitest';
import { REPOSITORY_ROOT, generatedDashboards, generateFiles, ruleFilesOf } from './support/retailflow.js';
import { panelsOf } from '../src/grafana/lint.js';
import { buildDashboard } from '../src/grafana/model.js';
import { substituteVariables } from '../src/promql.js';
import { prometheusInstalled, startPrometheus, type PrometheusServer } from './support/prometheus.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

// The live proof: RetailFlow in this process (on PostgreSQL, so the pool metrics exist, and Redis behind a proxy the
// test cuts), a real Prometheus (Debian's `prometheus`) scraping it every second and loading the generated rules, and
// a short mixed load with faults: chaos on payments (retries until the retry budget is spent), a burst that makes the
// ingress limiter shed, one that fills the inventory bulkhead, a slow then a dead payment provider, one tenant past
// its rate limit, a flood of new tenants past the label cap, and Redis going away (the rate limiter fails open).
// Then every panel query of every dashboard (variables substituted as Grafana would) and every recording rule must
// parse and return at least one series, and the SLO engine inside RetailFlow and Prometheus must agree on the
// checkout error ratio.

const installed = prometheusInstalled();
if (!installed && servicesRequired()) {
  throw new Error(
    'prometheus is not installed (Debian package `prometheus`), and BALLAST_REQUIRE_SERVICES=1',
  );
}
if (!installed) console.warn('live-prometheus: skipped: the `prometheus` binary is not installed');
const postgres = testService('postgres');
const redis = testService('redis');

const JOB = 'retailflow';
const CHECKOUT = 'http_route="/api/v1/orders",http_request_method="POST"';
/**
 * Tolerance on the checkout error ratio. Both sides count the same requests (the engine from its own middleware,
 * Prometheus from the RED histogram scraped after the last request), so they must agree exactly up to floating
 * point; 0.001 absolute leaves room for nothing else.
 */
const TOLERANCE = 0.001;

/**
 * Queries that may come back empty from this scenario, each with the reason. One that does return data is reported
 * (a warning), so the list can be trimmed as the gaps are closed.
 */
const KNOWN_GAPS: readonly { readonly pattern: RegExp; readonly reason: string }[] = [
  { pattern: /ballast_fallbacks_total/, reason: 'RetailFlow has no fallback policy' },
];

const ACME = { authorization: `Bearer ${DEFAULT_CONFIG.acmeApiKey}` };
const GLOBEX = { authorization: `Bearer ${DEFAULT_CONFIG.globexApiKey}` };
const ADMIN = { authorization: `Bearer ${DEFAULT_CONFIG.adminKey}`, 'content-type': 'application/json' };

describe.skipIf(!installed || postgres.skip || redis.skip)(
  'dashboards and rules against a live RetailFlow in a real Prometheus',
  () => {
    const schema = `ballast_live_${process.pid}_${randomBytes(3).toString('hex')}`;
    let dir: string | undefined;
    let service: RetailFlow | undefined;
    let prom: PrometheusServer | undefined;
    let redisProxy: TcpProxy | undefined;
    let started = 0;
    let orderSeq = 0;
    const gapsHit = new Set<string>();

    const request = async (method: string, path: string, headers: Record<string, string>, body?: unknown) => {
      // Admin lives on the ops listener.
      const base = path.startsWith('/admin') ? service!.opsUrl : service!.url;
      const res = await fetch(`${base}${path}`, {
        method,
        headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      await res.arrayBuffer();
      return res.status;
    };
    const checkout = (headers: Record<string, string>) =>
      request(
        'POST',
        '/api/v1/orders',
        { ...headers, 'idempotency-key': `live-${orderSeq++}` },
        {
          items: [{ productId: 'sku-mug', quantity: 1 }],
        },
      );
    const chaos = (target: 'payments' | 'storage', fault: Record<string, unknown>) =>
      request('POST', '/admin/chaos', ADMIN, { target, ...fault });

    /** Mixed traffic from `workers` concurrent clients of tenant acme until `ms` have passed. */
    async function load(ms: number, workers: number): Promise<void> {
      const end = Date.now() + ms;
      await Promise.all(
        Array.from({ length: workers }, async () => {
          for (let i = 0; Date.now() < end; i++) {
            if (i % 3 === 0) await checkout(ACME);
            else await request('GET', i % 3 === 1 ? '/api/v1/products' : '/api/v1/products/sku-mug', ACME);
            if (i % 5 === 0) await request('GET', '/api/v1/orders', ACME);
          }
        }),
      );
    }

    /** True when RetailFlow's own scrape has a sample of `metric` above zero. */
    async function emitted(metric: string): Promise<boolean> {
      const text = await (
        await fetch(`${service!.opsUrl}/metrics`, {
          headers: { authorization: `Bearer ${DEFAULT_CONFIG.opsToken}` },
        })
      ).text();
      return text
        .split('\n')
        .some(
          (line) =>
            line.startsWith(metric) &&
            /[{ ]/.test(line[metric.length] ?? '') &&
            Number(line.split(' ').pop()) > 0,
        );
    }

    /** Runs `step` until RetailFlow emitted `metric` (at least once, at most `ms`); fails when it never does. */
    async function phase(metric: string, ms: number, step: () => Promise<unknown>): Promise<void> {
      const end = Date.now() + ms;
      do await step();
      while (!(await emitted(metric)) && Date.now() < end);
      if (!(await emitted(metric)))
        throw new Error(`the scenario did not make RetailFlow emit ${metric} within ${ms} ms`);
    }

    async function until(what: string, check: () => Promise<boolean>, ms = 15_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'ballast-live-prometheus-'));
      started = Date.now();
      const redisUrl = new URL(redis.url);
      redisProxy = await startTcpProxy(redisUrl.hostname, Number(redisUrl.port || 6379));
      service = await startRetailFlow(
        {
          ...DEFAULT_CONFIG,
          port: 0,
          paymentPort: 0,
          opsPort: 0,
          preStopDelayMs: 0,
          // The burst below must overflow the bulkhead (the alert under test): each tenant may run all its slots.
          tenantInventoryShare: 1,
          databaseUrl: postgres.url,
          // Rate limits in Redis (database 9, away from other suites' keys) behind a proxy the test can cut.
          redisUrl: `redis://127.0.0.1:${redisProxy.port}/9`,
          proRequestsPerMinute: 1_000_000,
          freeRequestsPerMinute: 20,
          inventoryConcurrency: 4, // small enough that a burst of checkouts overflows it
          inventoryQueue: 0,
          // An ingress limit (and floor) a burst of slow order listings overflows: 32 running, 50 queued.
          ingressInitialLimit: 32,
          ingressMinLimit: 32,
        },
        { log: () => {}, databaseSchema: schema },
      );
      // The generated rule files, every group at the test's 1s evaluation interval: the SLO metadata groups run
      // every 2m, longer than the load below lasts.
      const generated = generateFiles();
      const into = dir;
      const ruleFiles = [...ruleFilesOf(generated).keys()].map((p) => {
        const text = generated.get(p) ?? readFileSync(join(REPOSITORY_ROOT, p), 'utf8');
        const doc = parse(text) as { groups: { interval?: string }[] };
        for (const group of doc.groups) delete group.interval;
        const file = join(into, basename(p));
        writeFileSync(file, stringify(doc, { lineWidth: 0 }));
        return file;
      });
      prom = await startPrometheus({
        dir,
        job: JOB,
        target: new URL(service.opsUrl).host,
        bearerToken: DEFAULT_CONFIG.opsToken,
        ruleFiles,
      });
      await until(
        'the first scrape',
        async () => (await prom!.query(`up{job="${JOB}"} == 1`)).result.length > 0,
      );

      // Each fault phase runs until RetailFlow's own /metrics shows what it is meant to produce (bounded in time).
      const provider = service.provider!;
      await load(2000, 6); // healthy
      // Injected payment faults: retries until the shared retry budget is spent. Five failures in a row would open
      // the payment breaker and stop the retries, so during this phase the on-call lever `reset()` closes it again
      // as soon as it opens.
      await chaos('payments', { enabled: true, errorRate: 0.5, latencyMs: 0 });
      const breaker = service.policies.paymentBreaker;
      const keepClosed = breaker.onEvent((e) => {
        if (e.type === 'state-change' && e.to === 'open') queueMicrotask(() => breaker.reset());
      });
      try {
        await phase('ballast_retry_budget_exhausted_total', 8000, () => load(500, 6));
      } finally {
        keepClosed.dispose();
      }
      await chaos('payments', { enabled: false });
      await chaos('storage', { enabled: true, errorRate: 0, latencyMs: 100 }); // slow storage, then a burst
      // Order listings read the (slow) store every time, each holding its permit 100 ms: a burst of them overflows
      // the limit and its queue whatever the machine's speed (cached catalog reads finished too fast to, when the
      // test and the service shared a loaded core).
      await phase('ballast_load_shed_total', 6000, () =>
        Promise.all(Array.from({ length: 400 }, () => request('GET', '/api/v1/orders?limit=5', ACME))),
      );
      // A burst of checkouts from two tenants on slow storage (one tenant alone may only run its share of the
      // slots): the inventory bulkhead is full and refuses some (503).
      await phase('ballast_bulkhead_rejections_total', 5000, () =>
        Promise.all(Array.from({ length: 12 }, (_, i) => checkout(i % 2 === 0 ? ACME : GLOBEX))),
      );
      await chaos('storage', { enabled: false });
      provider.setKnobs({ latencyMs: 1500 }); // slower than the per-attempt timeout
      await phase('ballast_timeouts_total', 14_000, () => load(500, 6));
      provider.setKnobs({ latencyMs: 0, down: true }); // the provider is down
      await load(2500, 6);
      provider.setKnobs({ down: false });
      // One tenant past its plan's rate limit: 429s (orders are `default` priority, so the shedder leaves them be).
      await until('429s for globex', async () => {
        const statuses = await Promise.all(
          Array.from({ length: 40 }, () => request('GET', '/api/v1/orders', GLOBEX)),
        );
        return statuses.includes(429);
      });
      // A flood of new tenants (ten at a time, below the shedding limit): the tenant label passes its cardinality
      // cap and collapses to __overflow__.
      await phase('ballast_telemetry_label_overflow_total', 0, async () => {
        for (let batch = 0; batch < 11; batch++) {
          await Promise.all(
            Array.from({ length: 10 }, async (_, j) => {
              const id = `flood-${batch * 10 + j}`;
              const key = `rf_${id}_key`;
              const apiKeyHash = createHash('sha256').update(key, 'utf8').digest('hex');
              await service!.repo.upsertTenant({ id, name: id, plan: 'pro', apiKeyHash });
              // A request refused before authentication (shed, 503) carries no tenant: retry it.
              for (let attempt = 0; attempt < 5; attempt++) {
                if ((await request('GET', '/api/v1/orders', { authorization: `Bearer ${key}` })) !== 503)
                  break;
              }
            }),
          );
        }
      });
      // Redis goes away: the rate limiter fails open (requests go on) and counts store errors.
      redisProxy.cut();
      await phase('ballast_policy_store_errors_total', 5000, () => load(500, 4));
      await load(1000, 4);
      console.log(`live-prometheus: load done after ${((Date.now() - started) / 1000).toFixed(1)} s`);

      // Wait for a scrape that started after the last request finished, then for one more rule evaluation.
      const loadEnded = Date.now() / 1000;
      await until('a scrape after the load', async () => {
        const r = await prom!.query(`timestamp(up{job="${JOB}"})`);
        return Number(r.result[0]?.value?.[1] ?? 0) > loadEnded + 0.2;
      });
      await new Promise((r) => setTimeout(r, 1500));
    }, 90_000);

    afterAll(async () => {
      // A warning, not a failure: the gaps are closed in RetailFlow and telemetry, which may land after this file.
      for (const hit of gapsHit) console.warn(`live-prometheus: known gap closed: ${hit}`);
      await prom?.stop();
      await service?.shutdown();
      await redisProxy?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
      const admin = new pg.Pool({ connectionString: postgres.url, max: 1 });
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).finally(() => admin.end());
    });

    /** Empty results that are not known gaps; known gaps that returned data are remembered. */
    function classify(label: string, expr: string, empty: boolean, problems: string[]): void {
      const gap = KNOWN_GAPS.find((g) => g.pattern.test(expr));
      if (gap && !empty)
        gapsHit.add(`${gap.reason} — yet \`${expr}\` returned data: remove it from KNOWN_GAPS`);
      if (!gap && empty) problems.push(`${label}: ${expr}`);
    }

    it('scrapes RetailFlow and loads every generated rule without evaluation errors', async () => {
      expect((await prom!.targets()).map((t) => t.health)).toEqual(['up']);
      const loaded = (await prom!.rules()).flatMap((g) => g.rules);
      expect(loaded.length).toBe([...ruleFilesOf(generateFiles()).values()].flat().length);
      const unhealthy = loaded
        .filter((r) => r.health !== 'ok')
        .map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`);
      expect(unhealthy).toEqual([]);
    });

    it('every panel query of every dashboard parses and returns at least one series', async () => {
      // Grafana's $__rate_interval on a panel whose step spans the test window.
      const rateInterval = `${Math.ceil((Date.now() - started) / 1000) + 5}s`;
      const empty: string[] = [];
      let queries = 0;
      for (const spec of generatedDashboards()) {
        expect(await prom!.labelValues(spec.jobMetric, 'job'), `${spec.uid}: job variable`).toContain(JOB);
        const instances = await prom!.labelValues(`${spec.jobMetric}{job=~"${JOB}"}`, 'instance');
        expect(instances, `${spec.uid}: instance variable`).toEqual([new URL(service!.opsUrl).host]);
        const values: Record<string, string> = { job: JOB, instance: '.+', __rate_interval: rateInterval };
        // Extra variables (the SLO picker): the dashboard is evaluated once per value, as an on-call would pick it.
        let choices: Record<string, string>[] = [{}];
        for (const v of spec.variables ?? []) {
          const m = /^label_values\((.*),\s*(\w+)\)$/.exec(v.query)!;
          const options = await prom!.labelValues(substituteVariables(m[1]!, values), m[2]!);
          expect(options.length, `${spec.uid}: ${v.name} variable`).toBeGreaterThan(0);
          choices = choices.flatMap((c) => options.map((o) => ({ ...c, [v.name]: o })));
        }
        for (const choice of choices) {
          for (const panel of panelsOf(buildDashboard(spec))) {
            for (const target of panel.targets ?? []) {
              const expr = substituteVariables(String(target.expr), { ...values, ...choice });
              queries++;
              const result = await prom!.query(expr); // throws with Prometheus's own error when it does not parse
              classify(`${spec.uid} / ${String(panel.title)}`, expr, result.result.length === 0, empty);
            }
          }
        }
      }
      expect(queries).toBeGreaterThan(80);
      expect(empty).toEqual([]);
    });

    it('every recording rule returns at least one series, evaluated and as recorded', async () => {
      const records = [...ruleFilesOf(generateFiles()).values()].flat().filter((r) => r.record);
      expect(records.length).toBeGreaterThan(0);
      const empty: string[] = [];
      for (const rule of records) {
        const selector = `${rule.record!}{${Object.entries(rule.labels)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}}`;
        classify(`expr of ${selector}`, rule.expr, (await prom!.query(rule.expr)).result.length === 0, empty);
        classify('recorded', selector, (await prom!.query(selector)).result.length === 0, empty);
      }
      expect(empty).toEqual([]);
    });

    it(`the SLO engine and Prometheus agree on the checkout error ratio (within ${TOLERANCE})`, async () => {
      const status = service!.slos.engine.status('checkout-availability');
      const engineTotal = status.events.good + status.events.bad;
      // Counters start at zero with the process, so their values are the counts over the whole test window.
      const count = async (matchers: string) =>
        Number(
          (await prom!.query(`sum(http_server_request_duration_seconds_count{job="${JOB}",${matchers}})`))
            .result[0]?.value?.[1] ?? 0,
        );
      const promTotal = await count(CHECKOUT);
      const promBad = await count(`${CHECKOUT},http_response_status_code=~"5.."`);
      const engineRatio = status.events.bad / engineTotal;
      const promRatio = promBad / promTotal;
      console.log(
        `checkout error ratio over the test window: engine ${engineRatio.toFixed(4)} (${status.events.bad}/${engineTotal}), ` +
          `Prometheus ${promRatio.toFixed(4)} (${promBad}/${promTotal})`,
      );
      expect(engineRatio).toBeGreaterThan(0.05); // the faults made checkouts fail
      expect(promTotal).toBe(engineTotal); // the same checkouts on both sides
      expect(Math.abs(engineRatio - promRatio)).toBeLessThanOrEqual(TOLERANCE);
    });
  },
);
