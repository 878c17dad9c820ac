import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { loadSlos } from '@ballast/slo';
import type { ChargeRequest, PaymentGateway } from '../../src/payments/client.js';
import type { RetailFlow } from '../../src/service.js';
import { SLO_SPEC_URL } from '../../src/wiring/slo.js';
import { ACME, OPS, call, order, startTestService, until } from '../helpers.js';

// Found by an attack: the in-process SLO engine and the Prometheus rules generated from the same spec counted
// different requests. `/API/V1/ORDERS` was served (express routes case-insensitively) and counted by Prometheus
// only; a checkout the client abandoned was bad in-process and good in Prometheus. Routing is now
// case-sensitive (the variant is a 404 for both) and an abandoned request is counted as Prometheus counts it.
// This test sends the same requests and reads both.

interface Matcher {
  readonly label: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** The label matchers of the checkout SLO's good and total queries, from the spec the rules are generated from. */
async function checkoutQueries(): Promise<{ good: Matcher[]; total: Matcher[] }> {
  const slos = await loadSlos([fileURLToPath(SLO_SPEC_URL)]);
  const indicator = slos.find((s) => s.name === 'checkout-availability')!.indicator;
  if (indicator.kind !== 'ratio' || indicator.counts !== 'good')
    throw new Error('expected a good/total ratio');
  const matchers = (query: string): Matcher[] =>
    [.../\{([^}]*)\}/.exec(query)![1]!.matchAll(/(\w+)(=~|!~|!=|=)"([^"]*)"/g)].map((m) => ({
      label: m[1]!,
      op: m[2] as Matcher['op'],
      value: m[3]!,
    }));
  return {
    good: matchers(indicator.good.query),
    total: matchers(indicator.total.query),
  };
}

function matches(labels: Record<string, string>, matchers: readonly Matcher[]): boolean {
  return matchers.every(({ label, op, value }) => {
    const v = labels[label] ?? '';
    const full = new RegExp(`^(?:${value})$`);
    return op === '=' ? v === value : op === '!=' ? v !== value : op === '=~' ? full.test(v) : !full.test(v);
  });
}

/** Sums `http_server_request_duration_seconds_count` over the series a query selects. */
function count(text: string, matchers: readonly Matcher[]): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^http_server_request_duration_seconds_count\{(.*)\} (\S+)/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries(
      [...m[1]!.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    if (matches(labels, matchers)) total += Number(m[2]);
  }
  return total;
}

let service: RetailFlow | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
});

describe('the checkout SLO', () => {
  it('counts the same requests, good and bad, in the engine and in the generated Prometheus rules', async () => {
    let hold: (() => void) | undefined;
    let fail = false;
    const gateway: PaymentGateway = {
      async charge(request: ChargeRequest) {
        if (request.reference.length > 0 && hold === undefined && !fail) {
          // The first charge waits for the test, so its client can abandon it.
          await new Promise<void>((resolve) => (hold = resolve));
        }
        if (fail) throw new Error('provider down');
        return { id: `ch_${request.reference}`, ...request, status: 'succeeded' as const };
      },
      refund: (request) => Promise.resolve({ chargeId: `ch_${request.reference}` }),
    };
    const started = await startTestService({}, { paymentGateway: gateway });
    service = started.service;
    const url = service.url;

    // 1. A checkout whose client leaves while its charge is in flight.
    const abort = new AbortController();
    const left = fetch(`${url}/api/v1/orders`, {
      method: 'POST',
      signal: abort.signal,
      headers: {
        authorization: `Bearer ${ACME}`,
        'content-type': 'application/json',
        'idempotency-key': 'gone',
      },
      body: JSON.stringify({ items: [{ productId: 'sku-mug', quantity: 1 }] }),
    }).catch(() => undefined);
    await until(() => hold !== undefined, 'the charge to be in flight');
    abort.abort();
    await left;
    await until(() => service!.inFlight === 0, 'the abandoned request to close');
    hold!();
    // 2. Served, 3. unauthenticated, 4. a case variant of the route, 5. a server error.
    expect((await order(url, ACME, 'ok-1')).status).toBe(201);
    expect((await call(url, 'POST', '/api/v1/orders', { body: {} })).status).toBe(401);
    expect((await call(url, 'POST', '/API/V1/ORDERS', { key: ACME, body: {} })).status).toBe(404);
    fail = true;
    expect((await order(url, ACME, 'fails')).status).toBe(503);
    await until(() => service!.inFlight === 0, 'every answer to end');

    const status = service.slos.engine.statusAll().find((s) => s.slo === 'checkout-availability')!;
    const metrics = await call<string>(service.opsUrl, 'GET', '/metrics', { key: OPS });
    const queries = await checkoutQueries();
    const total = count(metrics.body, queries.total);
    const good = count(metrics.body, queries.good);
    expect({ good: status.events.good, total: status.events.good + status.events.bad }).toEqual({
      good,
      total,
    });
    expect(total).toBe(4); // the case variant counts for neither
  });
});
