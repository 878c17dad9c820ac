import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import autocannon from 'autocannon';
import { parseSpecs } from '@ballast/slo';
import { seededRandom } from '@ballast/testkit';
import { attacks, type AttackResult } from './attacks.js';
import { KEYS, ROOT, scrape, startService } from './service.js';

/** What the hostile-input scenario measured. */
export interface HostileResult {
  readonly apiCases: number;
  readonly byCategory: Record<string, number>;
  readonly serverErrors: number;
  readonly crashes: number;
  readonly crossTenantReads: number;
  readonly unclearRejections: number;
  readonly examples: string[];
  readonly specCases: number;
  readonly specInvalid: number;
  readonly specCrashes: number;
  readonly specUnlocatedErrors: number;
  readonly randomRequests: number;
  readonly routeSeries: number;
  readonly seriesCap: number;
  /** The attacks that broke RetailFlow once (slow bodies, abusive input, cancel races, a noisy neighbour). */
  readonly attacks: AttackResult;
  readonly goals: Record<string, { readonly value: number; readonly goal: number; readonly met: boolean }>;
}

interface Case {
  readonly category: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string | Buffer;
  /** When set, a 2xx answer is a cross-tenant read. */
  readonly foreign?: boolean;
}

const WEIRD = ['', ' ', '\u0000', '\u202e', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '"', "'; DROP TABLE orders; --", '../../etc/passwd', '%00', '💥'.repeat(50)];

function pick<T>(rnd: () => number, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)]!;
}

function makeCase(rnd: () => number, acmeOrders: readonly string[]): Case {
  const acme = { authorization: `Bearer ${KEYS.acme}` };
  const json = { ...acme, 'content-type': 'application/json', 'idempotency-key': randomUUID() };
  const kind = Math.floor(rnd() * 9);
  switch (kind) {
    case 0: {
      const bodies = ['{', '{"items":', 'null', '[]', '"x"', '{"items":[{"productId":', '\u0000\u0001', '{}}', 'true'];
      return { category: 'malformed-json', method: 'POST', path: '/api/v1/orders', headers: json, body: pick(rnd, bodies) };
    }
    case 1: {
      const size = pick(rnd, [70_000, 300_000, 2_000_000]);
      return { category: 'huge-body', method: 'POST', path: '/api/v1/orders', headers: json, body: Buffer.alloc(size, 0x61) };
    }
    case 2: {
      const items = pick(rnd, [
        'x',
        1,
        [{ productId: 1, quantity: 'two' }],
        [{ productId: 'sku-mug', quantity: -1 }],
        [{ productId: 'sku-mug', quantity: 1e12 }],
        [{ productId: 'sku-mug', quantity: 1.5 }],
        [],
        [{ productId: pick(rnd, WEIRD), quantity: 1 }],
        Array.from({ length: 500 }, () => ({ productId: 'sku-mug', quantity: 1 })),
      ]);
      return { category: 'wrong-types', method: 'POST', path: '/api/v1/orders', headers: json, body: JSON.stringify({ items, extra: pick(rnd, WEIRD) }) };
    }
    case 3: {
      const id = encodeURIComponent(pick(rnd, WEIRD) + String(Math.floor(rnd() * 1e6)));
      return { category: 'unicode-ids', method: pick(rnd, ['GET', 'DELETE']), path: `/api/v1/${pick(rnd, ['orders', 'products'])}/${id}`, headers: acme };
    }
    case 4: {
      const headers = pick(rnd, [
        { authorization: 'Bearer' },
        { authorization: `Bearer ${'k'.repeat(4000)}` },
        { authorization: `Basic ${Buffer.from('acme:x').toString('base64')}` },
        { authorization: `bearer ${KEYS.acme.toUpperCase()}` },
        {},
        { ...acme, 'idempotency-key': 'x'.repeat(1000), 'content-type': 'application/json' },
        { ...acme, 'content-type': 'text/plain', 'idempotency-key': randomUUID() },
        { ...acme, 'x-request-deadline-ms': '-5' },
        { ...acme, 'x-request-deadline-ms': 'NaN' },
      ]);
      const post = 'idempotency-key' in headers;
      return {
        category: 'header-abuse',
        method: post ? 'POST' : 'GET',
        path: post ? '/api/v1/orders' : '/api/v1/orders',
        headers,
        ...(post ? { body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] }) } : {}),
      };
    }
    case 5: {
      const id = acmeOrders.length > 0 ? pick(rnd, acmeOrders) : 'missing';
      return {
        category: 'other-tenant',
        method: pick(rnd, ['GET', 'DELETE']),
        path: `/api/v1/orders/${id}`,
        headers: { authorization: `Bearer ${KEYS.globex}` },
        foreign: true,
      };
    }
    case 6: {
      return {
        category: 'idempotency-reuse',
        method: 'POST',
        path: '/api/v1/orders',
        headers: { ...json, 'idempotency-key': 'proof-reused-key' },
        body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 + Math.floor(rnd() * 3) }] }),
      };
    }
    case 7: {
      const q = pick(rnd, ['?limit=-1', '?limit=99999999', '?cursor=%ff%fe', '?cursor=' + 'A'.repeat(3000), '?limit=abc', '?limit[]=1']);
      return { category: 'bad-query', method: 'GET', path: `/api/v1/${pick(rnd, ['orders', 'products', 'audit'])}${q}`, headers: acme };
    }
    default: {
      return { category: 'bad-method', method: pick(rnd, ['PUT', 'PATCH', 'OPTIONS', 'DELETE']), path: pick(rnd, ['/api/v1/products', '/api/v1/orders', '/admin/chaos', '/api/v1/flags']), headers: acme };
    }
  }
}

function mutate(rnd: () => number, text: string): string {
  const lines = text.split('\n');
  const n = 1 + Math.floor(rnd() * 3);
  for (let i = 0; i < n; i++) {
    const at = Math.floor(rnd() * lines.length);
    const line = lines[at] ?? '';
    switch (Math.floor(rnd() * 7)) {
      case 0:
        lines.splice(at, 1);
        break;
      case 1:
        lines[at] = ` ${line}`;
        break;
      case 2:
        lines[at] = line.replace(/: .*/, `: ${pick(rnd, ['[]', '{}', '-1', 'yes', '"', '1e999', '&anchor', '*alias', '!!binary x'])}`);
        break;
      case 3:
        lines.splice(at, 0, line);
        break;
      case 4: {
        const c = Math.floor(rnd() * line.length);
        lines[at] = line.slice(0, c) + pick(rnd, [':', '-', '\t', '"', '{', '\u0000', '#']) + line.slice(c + 1);
        break;
      }
      case 5:
        lines[at] = line.replace(/([a-zA-Z]+):/, `${pick(rnd, ['unknownField', 'targt', 'spec', 'kind'])}:`);
        break;
      default:
        lines.splice(at, 0, '---');
    }
  }
  return lines.join('\n');
}

/** Knobs of the scenario. */
export interface HostileOptions {
  readonly env: Record<string, string>;
  readonly apiCases: number;
  readonly specCases: number;
  readonly randomRequests: number;
  readonly seed: number;
  readonly log: (line: string) => void;
  /** Slow connections of the slow-request attack. @default 200 */
  readonly slowConnections?: number;
  /** Length of the cancel-during-charge race and of the noisy neighbour's burst, in seconds. @default 10 */
  readonly attackSec?: number;
  /** Length of the windows of another tenant's calls around the slow-request attack (see AttackOptions). @default attackSec */
  readonly victimSec?: number;
}

/**
 * Fuzzes the API with generated hostile requests, fuzzes the SLO spec loader with mutated YAML, and floods the
 * service with random paths and tenant keys to check the metric cardinality cap.
 */
export async function hostileInput(opts: HostileOptions): Promise<HostileResult> {
  const rnd = seededRandom(opts.seed);
  const service = await startService({ ...opts.env, LOAD_SHEDDING: 'ballast' }, { fresh: true });
  const byCategory: Record<string, number> = {};
  const examples: string[] = [];
  let serverErrors = 0;
  let crossTenantReads = 0;
  let unclearRejections = 0;
  let crashes = 0;
  let randomRequests = 0;
  let routeSeries = 0;
  const seriesCap = 100;
  try {
    // Orders that belong to acme, for globex to try to read.
    const acmeOrders: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${service.url}/api/v1/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEYS.acme}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] }),
      });
      const body = (await res.json()) as { id?: string };
      if (body.id) acmeOrders.push(body.id);
    }
    const cases = Array.from({ length: opts.apiCases }, () => makeCase(rnd, acmeOrders));
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        byCategory[c.category] = (byCategory[c.category] ?? 0) + 1;
        let status = 0;
        let body = '';
        let contentType = '';
        try {
          const res = await fetch(`${service.url}${c.path}`, {
            method: c.method,
            headers: c.headers,
            ...(c.body !== undefined ? { body: c.body } : {}),
            signal: AbortSignal.timeout(10_000),
          });
          status = res.status;
          contentType = res.headers.get('content-type') ?? '';
          body = await res.text();
        } catch (error) {
          // A connection closed on a huge body is the server refusing it, not crashing: check it is alive.
          const alive = await fetch(`${service.url}/healthz`).then((r) => r.ok, () => false);
          if (!alive) {
            crashes++;
            examples.push(`crash on ${c.category} ${c.method} ${c.path}: ${String(error)}`);
          }
          continue;
        }
        if (status >= 500 && status !== 503) {
          serverErrors++;
          if (examples.length < 10) examples.push(`${status} on ${c.category} ${c.method} ${c.path}: ${body.slice(0, 200)}`);
        }
        if (c.foreign && status >= 200 && status < 300) {
          crossTenantReads++;
          examples.push(`cross-tenant ${c.method} ${c.path} answered ${status}`);
        }
        if (status >= 400 && status < 500) {
          const clear = contentType.includes('json') && /"(title|detail)"/.test(body);
          if (!clear) {
            unclearRejections++;
            if (examples.length < 10) examples.push(`unclear ${status} on ${c.category}: ${contentType} ${body.slice(0, 120)}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    opts.log(`  ${cases.length} API cases: ${serverErrors} 5xx, ${crossTenantReads} cross-tenant reads, ${crashes} crashes`);

    // 100,000 random paths and tenant keys: the route label must stay bounded.
    const done = await new Promise<autocannon.Result>((resolve, reject) => {
      autocannon(
        {
          url: service.url,
          amount: opts.randomRequests,
          connections: 32,
          requests: [
            {
              setupRequest: (req: autocannon.Request) => ({
                ...req,
                method: 'GET',
                path: `/${randomUUID()}/${Math.floor(Math.random() * 1e9)}`,
                headers: { authorization: `Bearer tenant-${randomUUID()}` },
              }),
            },
          ],
        },
        (error: Error | null, result) => (error ? reject(error) : resolve(result)),
      );
    });
    randomRequests = done.requests.total;
    const samples = await scrape(service.opsUrl);
    const routes = new Set(
      samples.filter((s) => s.name === 'http_server_request_duration_seconds_count').map((s) => JSON.stringify(s.labels)),
    );
    routeSeries = routes.size;
    opts.log(`  ${randomRequests} random paths: ${routeSeries} request-duration series`);
    const alive = await fetch(`${service.url}/healthz`).then((r) => r.ok, () => false);
    if (!alive) crashes++;
  } finally {
    await service.stop();
  }

  // The attacks, on a fresh service (the fuzz above spent the loopback address's failed-authentication budget).
  const attacked = await startService({ ...opts.env, LOAD_SHEDDING: 'ballast' }, { fresh: true });
  let attackResult: AttackResult;
  try {
    attackResult = await attacks(attacked, {
      slowConnections: opts.slowConnections ?? 200,
      phaseSec: opts.attackSec ?? 10,
      victimSec: opts.victimSec ?? opts.attackSec ?? 10,
      log: opts.log,
    });
  } finally {
    await attacked.stop();
  }

  // Mutated SLO specs: every outcome is either valid or a list of located errors; nothing throws.
  const specPath = path.join(ROOT, 'examples/retailflow/slo/retailflow.yaml');
  const original = await readFile(specPath, 'utf8');
  let specInvalid = 0;
  let specCrashes = 0;
  let specUnlocated = 0;
  for (let i = 0; i < opts.specCases; i++) {
    const text = mutate(rnd, original);
    try {
      const result = parseSpecs([{ file: 'mutated.yaml', text }]);
      if (result.errors.length > 0) specInvalid++;
      for (const e of result.errors) {
        if (!(e.line >= 1 && e.column >= 1 && e.message.length > 0) || e.message.startsWith('could not read the file')) {
          specUnlocated++;
          if (examples.length < 20) examples.push(`unlocated spec error: ${e.message.slice(0, 160)}`);
        }
      }
    } catch (error) {
      specCrashes++;
      if (examples.length < 20) examples.push(`spec loader threw: ${String(error).slice(0, 160)}`);
    }
  }
  opts.log(`  ${opts.specCases} mutated specs: ${specInvalid} invalid, ${specCrashes} crashes, ${specUnlocated} unlocated errors`);

  return {
    apiCases: opts.apiCases,
    byCategory,
    serverErrors,
    crashes,
    crossTenantReads,
    unclearRejections,
    examples,
    specCases: opts.specCases,
    specInvalid,
    specCrashes,
    specUnlocatedErrors: specUnlocated,
    randomRequests,
    routeSeries,
    seriesCap,
    attacks: attackResult,
    goals: {
      ...attackResult.goals,
      noCrashes: { value: crashes + specCrashes, goal: 0, met: crashes + specCrashes === 0 },
      no5xx: { value: serverErrors, goal: 0, met: serverErrors === 0 },
      noCrossTenantReads: { value: crossTenantReads, goal: 0, met: crossTenantReads === 0 },
      clearRejections: { value: unclearRejections + specUnlocated, goal: 0, met: unclearRejections + specUnlocated === 0 },
      seriesUnderCap: { value: routeSeries, goal: seriesCap, met: routeSeries <= seriesCap },
    },
  };
}
