import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver } from './support/otlp-receiver.js';

describe('node --import @ballast/telemetry/register', () => {
  let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
  });
  afterAll(() => receiver.close());

  it.each([
    ['a CommonJS', 'preload-app.js'],
    ['an ES module', 'preload-app.mjs'],
  ])(
    'traces %s express app configured only by OTEL_* variables and flushes on SIGTERM',
    async (_kind, file) => {
      const before = receiver.spans.length;
      const child = spawn(
        process.execPath,
        [
          '--conditions=@ballast/source',
          '--import',
          'tsx',
          '--import',
          '@ballast/telemetry/register',
          fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url)),
        ],
        {
          cwd: fileURLToPath(new URL('..', import.meta.url)),
          env: {
            ...process.env,
            OTEL_SERVICE_NAME: 'preloaded',
            OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url,
            OTEL_BSP_SCHEDULE_DELAY: '60000', // only the shutdown flush can deliver the spans
          },
          stdio: ['ignore', 'ignore', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const exit = await new Promise<{ code: number | null; signal: string | null }>((resolve) =>
        child.on('exit', (code, signal) => resolve({ code, signal })),
      );
      // Ballast re-raised SIGTERM after flushing, so the process ended the way SIGTERM ends it.
      expect(exit, stderr).toEqual({ code: null, signal: 'SIGTERM' });
      const server = receiver.spans
        .slice(before)
        .find((s) => s.kind === 2 && s.attributes['http.route'] === '/items/:id');
      expect(server, stderr).toBeDefined();
      expect(server!.resource['service.name']).toBe('preloaded');
    },
  );
});
