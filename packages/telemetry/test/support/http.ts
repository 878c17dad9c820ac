import { type RequestListener, type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ParsedExposition, type ParsedFamily, parseExposition } from './exposition-parser.js';

/** Listens on an ephemeral port; returns the base URL and a close function. */
export async function listen(handler: RequestListener | Server) {
  const server = typeof handler === 'function' ? createServer(handler) : handler;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends a request with any method (fetch refuses some) and resolves with status and body. */
export function send(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Scrapes `url` in Prometheus text (default) or OpenMetrics and parses the body. */
export async function scrape(
  url: string,
  openMetrics = false,
): Promise<ParsedExposition & { contentType: string }> {
  const res = await send(
    url,
    'GET',
    openMetrics
      ? { accept: 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5' }
      : {},
  );
  if (res.status !== 200) throw new Error(`scrape answered ${res.status}: ${res.body}`);
  return { ...parseExposition(res.body, openMetrics), contentType: String(res.headers['content-type']) };
}

/** The value of the sample `name` whose labels include all of `labels`; undefined when none. */
export function sampleValue(
  family: ParsedFamily | undefined,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  const found = family?.samples.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return found?.value;
}

/** Label sets (without `le`) of a histogram's `_count` samples. */
export function countSeries(family: ParsedFamily | undefined): Record<string, string>[] {
  return (family?.samples ?? []).filter((s) => s.name.endsWith('_count')).map((s) => s.labels);
}
