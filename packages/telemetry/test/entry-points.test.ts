import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// A loader hook that fails any resolution of the OpenTelemetry tracing SDK (the NodeSDK, the exporter, the
// instrumentations), so an import succeeds only if it never reaches them.
const HOOK = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (/@opentelemetry\\/(sdk-node|sdk-trace-base|exporter-trace-otlp-http|instrumentation|resources)\\//.test(result.url)) {
    throw new Error('tracing SDK loaded: ' + result.url);
  }
  return result;
}`;
const REGISTER = `data:text/javascript,${encodeURIComponent(
  `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOK)}`)});`,
)}`;

/** Imports `specifier` in a fresh Node process that refuses to load the tracing SDK; prints its export names. */
async function importWithoutTracingSdk(specifier: string): Promise<{ ok: boolean; output: string }> {
  const script = `const m = await import(${JSON.stringify(specifier)}); console.log(JSON.stringify(Object.keys(m).sort()));`;
  try {
    const { stdout } = await run(
      process.execPath,
      [
        '--conditions=@ballast/source',
        '--import',
        'tsx',
        '--import',
        REGISTER,
        '--input-type=module',
        '-e',
        script,
      ],
      { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 20_000 },
    );
    return { ok: true, output: stdout };
  } catch (error) {
    return { ok: false, output: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}

describe('entry points', () => {
  it('metrics-only users load @ballast/telemetry without the tracing SDK', async () => {
    const { ok, output } = await importWithoutTracingSdk('@ballast/telemetry');
    expect(output).not.toContain('tracing SDK loaded');
    expect(ok).toBe(true);
    const names = JSON.parse(output) as string[];
    expect(names).toContain('createMetricsRegistry');
    expect(names).toContain('onShutdownSignal');
    expect(names).not.toContain('startTelemetry');
  });

  it('startTelemetry lives in @ballast/telemetry/tracing, which loads the SDK (the hook above works)', async () => {
    const { ok, output } = await importWithoutTracingSdk('@ballast/telemetry/tracing');
    expect(ok).toBe(false);
    expect(output).toContain('tracing SDK loaded');
    const tracing = await import('@ballast/telemetry/tracing');
    expect(Object.keys(tracing)).toEqual(['startTelemetry']);
  });
});
