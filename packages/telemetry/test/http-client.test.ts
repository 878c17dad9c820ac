import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { renderMetrics } from '../src/exposition.js';
import { instrumentFetch } from '../src/http/client.js';
import { parseExposition } from './support/exposition-parser.js';
import { listen, sampleValue } from './support/http.js';

const H = 'http_client_request_duration_seconds';

describe('instrumentFetch', () => {
  let server: Awaited<ReturnType<typeof listen>>;
  const seenHeaders: Record<string, string | string[] | undefined>[] = [];
  beforeAll(async () => {
    server = await listen((req, res) => {
      seenHeaders.push(req.headers);
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('x');
    });
  });
  afterAll(() => server.close());

  async function families(metrics: ReturnType<typeof createMetricsRegistry>) {
    return parseExposition(await renderMetrics(metrics, 'prometheus')).families;
  }

  it('records status, bounds server_address with an allow-list, and keeps caller headers', async () => {
    const metrics = createMetricsRegistry();
    const f = instrumentFetch(metrics, { serverAddresses: ['localhost'] });
    await (await f(`${server.url}/ok`, { headers: { 'x-caller': 'kept' } })).text();
    await (
      await f(new Request(`${server.url}/missing`, { method: 'POST', headers: { 'x-req': 'r' } }))
    ).text();
    const h = (await families(metrics)).get(H);
    expect(sampleValue(h, `${H}_count`, { server_address: '_OTHER', http_response_status_code: '200' })).toBe(
      1,
    );
    expect(
      sampleValue(h, `${H}_count`, {
        http_request_method: 'POST',
        http_response_status_code: '404',
        error_type: '404',
      }),
    ).toBe(1);
    expect(seenHeaders.at(-2)?.['x-caller']).toBe('kept');
    expect(seenHeaders.at(-1)?.['x-req']).toBe('r');
  });

  it('records a failed connection with its error code and rethrows', async () => {
    const metrics = createMetricsRegistry();
    const closed = await listen(() => {});
    const url = closed.url;
    await closed.close();
    const f = instrumentFetch(metrics);
    await expect(f(`${url}/x`)).rejects.toThrow();
    const h = (await families(metrics)).get(H);
    expect(
      sampleValue(h, `${H}_count`, {
        server_address: '127.0.0.1',
        error_type: 'ECONNREFUSED',
        http_response_status_code: '',
      }),
    ).toBe(1);
  });

  it('collapses hosts past the cap without an allow-list', async () => {
    const metrics = createMetricsRegistry({ cardinality: { limits: { [H]: { server_address: 1 } } } });
    const f = instrumentFetch(metrics, {
      fetch: () => Promise.resolve(new Response('ok')),
    });
    await f('http://a.example/');
    await f('http://b.example/');
    await f('http://c.example/');
    const all = await families(metrics);
    expect(sampleValue(all.get(H), `${H}_count`, { server_address: 'a.example' })).toBe(1);
    expect(sampleValue(all.get(H), `${H}_count`, { server_address: '__overflow__' })).toBe(2);
    expect(
      sampleValue(
        all.get('ballast_telemetry_label_overflow_total'),
        'ballast_telemetry_label_overflow_total',
        {
          metric: H,
          label: 'server_address',
        },
      ),
    ).toBe(2);
  });
});
