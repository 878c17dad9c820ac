import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ACME, call, order } from './helpers.js';

// The real entry point (`npm start` runs the same file built): a child process on embedded defaults, with traces
// sent to a local collector, stopped with SIGTERM.
const root = fileURLToPath(new URL('..', import.meta.url));

describe('main (npm start)', () => {
  it('serves on embedded defaults, exports traces over OTLP and exits 0 on SIGTERM after flushing', async () => {
    const received: string[] = [];
    const collector = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const child = spawn(
      process.execPath,
      ['--conditions=@ballast/source', '--import', 'tsx', 'src/main.ts'],
      {
        cwd: root,
        env: {
          ...process.env,
          PORT: '0',
          PAYMENT_PORT: '0',
          OPS_PORT: '0',
          PRE_STOP_DELAY_MS: '0',
          OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const look = () => {
          const match = /RetailFlow listening on (http:\/\/\S+)/.exec(output);
          if (match?.[1]) resolve(match[1]);
        };
        child.stdout.on('data', look);
        void exited.then(() => reject(new Error(`exited before listening:\n${output}`)));
      });
      // Never a key in the output, not even a development default.
      expect(output).toContain('tenant keys: acme (pro) development default (see the README)');
      expect(output).not.toContain('rf_acme_dev_key');
      expect((await call(url, 'GET', '/api/v1/products', { key: ACME })).status).toBe(200);
      expect((await order(url, ACME, 'main-1')).status).toBe(201);

      child.kill('SIGTERM');
      expect(await exited, output).toBe(0);
      expect(output).toContain('retailflow: stopped');
      const traces = received.join('\n');
      expect(traces, `no spans received; service output:\n${output}`).toContain('"stringValue":"retailflow"');
      expect(traces).toContain('/api/v1/products');
      expect(traces).toContain('/api/v1/orders');
    } finally {
      child.kill('SIGKILL');
      await new Promise<void>((resolve) => collector.close(() => resolve()));
    }
  }, 60_000); // a child process that compiles TypeScript on start: slow on a busy machine
});
