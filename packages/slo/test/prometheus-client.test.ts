import { ManualClock } from '@ballast/core';
import { describe, expect, it } from 'vitest';
import { defineSlo } from '../src/define.js';
import { PrometheusBackend } from '../src/prometheus/backend.js';
import { isPrometheusQueryError, PrometheusClient } from '../src/prometheus/client.js';

type Answer = { status: number; body: unknown };

/** A fetch that records the queries and answers from `reply`. */
function fakeFetch(reply: (query: string, params: URLSearchParams) => Answer) {
  const queries: string[] = [];
  const fetchFn = ((input: string | URL | Request) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const query = url.searchParams.get('query') ?? '';
    queries.push(query);
    const { status, body } = reply(query, url.searchParams);
    return Promise.resolve(new Response(typeof body === 'string' ? body : JSON.stringify(body), { status }));
  }) as typeof fetch;
  return { fetch: fetchFn, queries };
}

const vector = (value: number): Answer => ({
  status: 200,
  body: {
    status: 'success',
    data: { resultType: 'vector', result: [{ metric: {}, value: [0, String(value)] }] },
  },
});

describe('PrometheusClient', () => {
  it('rejects a URL that is not http(s) with the option template', () => {
    expect(() => new PrometheusClient({ url: 'prometheus:9090' })).toThrow(
      'Expected `url` to be an http(s) URL such as `http://127.0.0.1:9090`, got `"prometheus:9090"` (string)',
    );
  });

  it('sends the time in seconds and reads vectors and scalars', async () => {
    let time = '';
    const { fetch } = fakeFetch((q, params) => {
      time = params.get('time') ?? '';
      return q === 'scalar(1)'
        ? { status: 200, body: { status: 'success', data: { resultType: 'scalar', result: [0, '1'] } } }
        : vector(42);
    });
    const client = new PrometheusClient({ url: 'http://prom.test:9090/', fetch });
    expect(await client.query('up', 1_700_000_000_123)).toEqual([{ labels: {}, value: 42 }]);
    expect(time).toBe('1700000000.123');
    expect(await client.query('scalar(1)', 0)).toEqual([{ labels: {}, value: 1 }]);
  });

  it.each<[string, Answer, RegExp]>([
    [
      'a query error',
      { status: 400, body: { status: 'error', errorType: 'bad_data', error: 'parse error' } },
      /^Prometheus rejected "up\(": bad_data: parse error$/,
    ],
    [
      'a body that is not JSON',
      { status: 502, body: '<html>bad gateway</html>' },
      /answered "up\(" with HTTP 502 and no JSON/,
    ],
  ])('throws a PrometheusQueryError on %s', async (_, answer, message) => {
    const client = new PrometheusClient({ url: 'http://prom.test', fetch: fakeFetch(() => answer).fetch });
    const error = await client.query('up(', 0).catch((e: unknown) => e);
    expect(isPrometheusQueryError(error)).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});

describe('PrometheusBackend', () => {
  it('counts a calendar month from its first midnight in the SLO time zone', async () => {
    const slo = defineSlo({
      service: 'shop',
      name: 'latency',
      objective: 0.99,
      window: { calendar: 'month', timeZone: 'Europe/Berlin' },
      indicator: { latency: { histogram: 'http_request_duration_seconds{job="shop"}', threshold: 0.3 } },
    });
    // 3 March 2026 00:00 in Berlin is 2 March 23:00 UTC; "now" is 2 days 1 hour later.
    const clock = new ManualClock(Date.UTC(2026, 2, 3, 0, 0));
    const { fetch, queries } = fakeFetch((q) => vector(q.includes('_bucket') ? 10 : 1000));
    const backend = new PrometheusBackend([slo], { url: 'http://prom.test', fetch, clock });
    const status = await backend.status('latency');
    expect(status.period).toEqual({
      start: Date.UTC(2026, 1, 28, 23),
      end: Date.UTC(2026, 2, 31, 22),
      window: '1M Europe/Berlin',
    });
    // The period query reads the counters from the period start: 2d1h before now.
    expect(queries).toContain('(sum(rate(http_request_duration_seconds_count{job="shop"}[2d1h]))) * 176400');
  });

  it('names the SLO it does not know', async () => {
    const backend = new PrometheusBackend([], {
      url: 'http://prom.test',
      fetch: fakeFetch(() => vector(0)).fetch,
    });
    await expect(backend.status('nope')).rejects.toThrow(
      'Expected `slo` to be the name of one of its SLOs (it has none), got `"nope"` (string)',
    );
  });
});
