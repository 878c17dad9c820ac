/**
 * Regression: outbound metrics labelled the payment provider `server_address="_OTHER"`. The allow-list was given
 * as `new URL(paymentUrl).host` (host *and* port, `127.0.0.1:4010`) and checked against the request's hostname
 * without its port, so no request ever matched it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpClientMetrics, instrumentFetch } from '../../src/http/client.js';
import { renderMetrics } from '../../src/exposition.js';
import { type MetricsRegistry, createMetricsRegistry } from '../../src/metrics-registry.js';
import { parseExposition } from '../support/exposition-parser.js';
import { listen } from '../support/http.js';

const H = 'http_client_request_duration_seconds';

async function addresses(metrics: MetricsRegistry): Promise<string[]> {
  const { families } = parseExposition(await renderMetrics(metrics, 'prometheus'));
  return (families.get(H)?.samples ?? [])
    .filter((s) => s.name === `${H}_count`)
    .map((s) => s.labels.server_address!)
    .sort();
}

describe('server_address allow-list entries with a port', () => {
  let provider: Awaited<ReturnType<typeof listen>>;
  beforeAll(async () => {
    provider = await listen((_req, res) => {
      res.end('{}');
    });
  });
  afterAll(() => provider.close());

  it('names the provider when the allow-list is built from the URL host (with its port)', async () => {
    const metrics = createMetricsRegistry();
    const paymentFetch = instrumentFetch(metrics, { serverAddresses: [new URL(provider.url).host] });
    await (await paymentFetch(`${provider.url}/charges`, { method: 'POST' })).text();
    expect(await addresses(metrics)).toEqual(['127.0.0.1']);
  });

  it.each([
    ['a host name', 'payments.internal', 'http://payments.internal/x', 'payments.internal'],
    ['host:port', 'payments.internal:8443', 'https://payments.internal:8443/x', 'payments.internal'],
    [
      'another port of the same host',
      'payments.internal:8443',
      'http://payments.internal:9000/x',
      'payments.internal',
    ],
    ['a URL', 'https://API.Stripe.com/v1', 'https://api.stripe.com/v1/charges', 'api.stripe.com'],
    ['bracketed IPv6 with a port', '[::1]:4010', 'http://[::1]:4010/x', '[::1]'],
    ['bare IPv6', '::1', 'http://[::1]:4010/x', '[::1]'],
    ['upper case', 'Payments.Internal', 'http://payments.internal/x', 'payments.internal'],
  ])('matches an entry given as %s', async (_what, entry, url, label) => {
    const metrics = createMetricsRegistry();
    const client = httpClientMetrics(metrics, { serverAddresses: [entry], propagate: false });
    client.start('GET', url).end({ statusCode: 200 });
    client.start('GET', 'http://elsewhere.example/x').end({ statusCode: 200 });
    expect(await addresses(metrics)).toEqual([label, '_OTHER'].sort());
  });

  it('rejects an entry that names no host, saying which one', () => {
    const metrics = createMetricsRegistry();
    expect(() => httpClientMetrics(metrics, { serverAddresses: ['payments.internal', 'http://'] })).toThrow(
      'Expected `serverAddresses[1]` to be a host name, host:port or URL, got `"http://"` (string)',
    );
  });
});
