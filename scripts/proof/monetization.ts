import { randomBytes, randomUUID } from 'node:crypto';
import type { CostResult } from './cost.js';
import { freshDatabase, KEYS, startService, type ServiceProcess } from './service.js';

type Goal = { readonly value: number; readonly goal: number; readonly met: boolean };

/** What the monetization scenario measured. */
export interface MonetizationResult {
  /** RetailFlow instances sharing one database and one Redis (1 in embedded mode). */
  readonly instances: number;
  /** Checkouts sent, each with its key sent `sendsPerKey` times (concurrently on both instances, then again). */
  readonly checkouts: number;
  readonly sendsPerKey: number;
  /** Checkouts in flight when an instance was killed (real services only; 0 when skipped). */
  readonly crashCheckouts: number;
  /** The final answers to the killed instance's checkouts, replayed on the survivor, by status. */
  readonly crashAnswers: Readonly<Record<number, number>>;
  /** Orders placed (confirmed or fulfilled) and usage units metered, over every tenant. */
  readonly placed: number;
  readonly metered: number;
  readonly quota: {
    readonly included: number;
    readonly attempts: number;
    readonly admitted: number;
    readonly refused: number;
    readonly metered: number;
    /** The stated overshoot bound of the quota enforcer while its store answers. */
    readonly bound: number;
  };
  /** Cost attribution: cost per 1,000 checkouts, per tenant and plan, and measured levers (see cost.ts). */
  readonly cost?: CostResult;
  readonly goals: Record<string, Goal>;
}

interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly headers: Headers;
}

async function send(url: string, key: string, method: string, path: string, body?: unknown, extra = {}): Promise<Answer> {
  const response = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...extra },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const checkout = (url: string, key: string, productId: string, idempotencyKey: string) =>
  send(url, key, 'POST', '/api/v1/orders', { items: [{ productId, quantity: 1 }] }, { 'idempotency-key': idempotencyKey }).catch(
    () => ({ status: 0, body: {}, headers: new Headers() }),
  );

/** Orders of a tenant that were placed (confirmed, possibly fulfilled since). */
async function placedOrders(url: string, key: string): Promise<number> {
  let placed = 0;
  let cursor: string | null = null;
  for (let page = 0; page < 1000; page++) {
    const answer = await send(url, key, 'GET', `/api/v1/orders?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    const items = (answer.body.items ?? []) as { status: string }[];
    placed += items.filter((o) => o.status === 'confirmed' || o.status === 'fulfilled').length;
    cursor = (answer.body.nextCursor as string | null | undefined) ?? null;
    if (!cursor) break;
  }
  return placed;
}

async function meteredOrders(url: string, key: string): Promise<number> {
  const usage = await send(url, key, 'GET', '/api/v1/usage');
  if (usage.status !== 200) throw new Error(`GET /api/v1/usage answered ${usage.status}: ${JSON.stringify(usage.body)}`);
  return (usage.body.quotas as { orders: { used: number } }).orders.used;
}

async function firstProduct(url: string, key: string): Promise<string> {
  const products = await send(url, key, 'GET', '/api/v1/products?limit=1');
  const id = (products.body.items as { id: string }[] | undefined)?.[0]?.id;
  if (!id) throw new Error(`no product to order: ${JSON.stringify(products.body)}`);
  return id;
}

/**
 * The monetization scenario: RetailFlow with its quotas on (two instances sharing PostgreSQL and Redis on real
 * services, one embedded). (1) Idempotent replays: every checkout key is sent on both instances at once and again
 * later; every placed order must be metered exactly once. (2) Crash: an instance is killed with checkouts in flight
 * and their keys are replayed on the survivor until each has a final answer (real services only); still exactly
 * once. (3) Quota: a free tenant (100 orders a month, hard stop) sends more concurrent checkouts than its quota
 * across both instances; metered orders must stay within quota + the enforcer's stated bound (0). The usage API
 * must report what the meter holds.
 */
export async function monetization(options: {
  readonly env: Record<string, string>;
  readonly quick: boolean;
  readonly log: (line: string) => void;
}): Promise<MonetizationResult> {
  const shared = options.env.REDIS_URL !== undefined && options.env.DATABASE_URL !== undefined;
  const env: Record<string, string> = {
    ...options.env,
    QUOTAS: 'true',
    // One tenant's 140 concurrent checkouts: its monthly quota is what is measured, not its share of the bulkhead.
    TENANT_INVENTORY_SHARE: '1',
    QUOTA_KEY_PREFIX: `proof_${randomBytes(4).toString('hex')}:quota:`,
  };
  // Both instances on one fresh database of this section's own.
  if (env.DATABASE_URL !== undefined) env.DATABASE_URL = await freshDatabase(env.DATABASE_URL, 'ballast_proof_billing');
  const services: ServiceProcess[] = [];
  try {
    const a = await startService(env);
    services.push(a);
    const b = shared ? await startService(env) : a;
    if (b !== a) services.push(b);
    const urls = [a.url, b.url];
    const acmeProduct = await firstProduct(a.url, KEYS.acme);
    const globexProduct = await firstProduct(a.url, KEYS.globex);

    const checkouts = options.quick ? 40 : 200;
    options.log(`monetization: ${checkouts} checkouts, each key sent 3 times over ${services.length} instance(s)`);
    await Promise.all(
      Array.from({ length: checkouts }, async (_, i) => {
        const key = `replay-${randomUUID()}`;
        await Promise.all([checkout(urls[i % 2]!, KEYS.acme, acmeProduct, key), checkout(urls[(i + 1) % 2]!, KEYS.acme, acmeProduct, key)]);
        await checkout(urls[i % 2]!, KEYS.acme, acmeProduct, key);
      }),
    );

    const included = 100;
    const attempts = options.quick ? 140 : 200;
    options.log(`monetization: ${attempts} concurrent checkouts of a free tenant (quota ${included}) over ${services.length} instance(s)`);
    // Sixteen checkouts in flight at a time (the inventory bulkhead sheds more as 503s, retried with the same key).
    const quotaAnswers: Answer[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async (_, worker) => {
        while (next < attempts) {
          next++;
          const key = `quota-${randomUUID()}`;
          let answer = await checkout(urls[worker % 2]!, KEYS.globex, globexProduct, key);
          for (let retry = 0; retry < 20 && (answer.status === 503 || answer.status === 0); retry++) {
            answer = await checkout(urls[worker % 2]!, KEYS.globex, globexProduct, key);
          }
          quotaAnswers.push(answer);
        }
      }),
    );
    const statuses = new Map<number, number>();
    for (const a of quotaAnswers) statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
    options.log(`monetization:   answers ${JSON.stringify(Object.fromEntries(statuses))}`);
    const serverError = quotaAnswers.find((r) => r.status >= 500 && r.status !== 503);
    if (serverError) options.log(`monetization:   a ${serverError.status} answered: ${JSON.stringify(serverError.body).slice(0, 300)}`);
    const admitted = quotaAnswers.filter((r) => r.status === 201).length;
    const refused = quotaAnswers.filter(
      (r) => r.status === 429 && String(r.body.type).endsWith('quota-exceeded') && r.headers.get('retry-after') !== null,
    ).length;

    let crashCheckouts = 0;
    const crashAnswers: Record<number, number> = {};
    if (shared) {
      crashCheckouts = options.quick ? 20 : 50;
      options.log(`monetization: killing an instance with ${crashCheckouts} checkouts in flight, replaying them on the other`);
      const keys = Array.from({ length: crashCheckouts }, () => `crash-${randomUUID()}`);
      const inFlight = keys.map((key) => checkout(a.url, KEYS.acme, acmeProduct, key));
      await Promise.race(inFlight);
      await a.kill();
      await Promise.all(inFlight);
      // A pending order is resumed by a replay once it is 10 s old: replay until every key has a final answer.
      let open = keys;
      const final = new Map<string, number>();
      for (let round = 0; round < 40 && open.length > 0; round++) {
        const answers = await Promise.all(open.map((key) => checkout(b.url, KEYS.acme, acmeProduct, key)));
        open.forEach((key, i) => final.set(key, answers[i]!.status));
        open = open.filter((_, i) => answers[i]!.status === 409 || answers[i]!.status >= 500 || answers[i]!.status === 0);
        if (open.length > 0) await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      if (open.length > 0) options.log(`monetization:   ${open.length} crashed checkouts still without a final answer`);
      for (const status of final.values()) crashAnswers[status] = (crashAnswers[status] ?? 0) + 1;
      options.log(`monetization:   final answers after the crash ${JSON.stringify(crashAnswers)}`);
    }

    const survivor = b.url;
    // Let the outbox relay and the fulfilment consumer settle nothing that matters: placed orders are counted by status.
    const [acmePlaced, acmeMetered, globexPlaced, globexMetered] = await Promise.all([
      placedOrders(survivor, KEYS.acme),
      meteredOrders(survivor, KEYS.acme),
      placedOrders(survivor, KEYS.globex),
      meteredOrders(survivor, KEYS.globex),
    ]);
    const placed = acmePlaced + globexPlaced;
    const metered = acmeMetered + globexMetered;
    const bound = 0;
    const goal = (value: number, target: number, met: boolean): Goal => ({ value, goal: target, met });
    return {
      instances: services.length,
      checkouts,
      sendsPerKey: 3,
      crashCheckouts,
      crashAnswers,
      placed,
      metered,
      quota: { included, attempts, admitted, refused, metered: globexMetered, bound },
      goals: {
        billedTwice: goal(Math.max(0, metered - placed), 0, metered <= placed),
        unbilled: goal(Math.max(0, placed - metered), 0, placed <= metered),
        quotaOvershoot: goal(Math.max(0, globexMetered - included), bound, globexMetered <= included + bound),
        quotaRefusalsClear: goal(attempts - admitted - refused, 0, attempts - admitted === refused),
        usageApiEqualsMeter: goal(Math.abs(globexMetered - globexPlaced) + Math.abs(acmeMetered - acmePlaced), 0, globexMetered === globexPlaced && acmeMetered === acmePlaced),
      },
    };
  } finally {
    for (const s of services) await s.stop().catch(() => undefined);
  }
}

