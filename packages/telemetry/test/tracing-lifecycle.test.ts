import { EventEmitter } from 'node:events';
import { setImmediate as tick } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { trace } from '@opentelemetry/api';
import { onShutdownSignal } from '../src/tracing/shutdown-signals.js';
import { startTelemetry } from '../src/tracing/start-telemetry.js';
import { createMetricsRegistry } from '../src/metrics-registry.js';
import { observePolicies } from '../src/policy/policy-metrics.js';
import { FakePolicy } from './support/fakes.js';

class FakeProcess extends EventEmitter {
  readonly pid = 4242;
  readonly killed: [number, string][] = [];
  kill(pid: number, signal: string): boolean {
    this.killed.push([pid, signal]);
    return true;
  }
}

const saved = { ...process.env };
afterEach(() => {
  for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
  Object.assign(process.env, saved);
});

describe('onShutdownSignal', () => {
  it('shuts down once on the first signal, then re-raises it when nobody else listens', async () => {
    const target = new FakeProcess();
    let shutdowns = 0;
    onShutdownSignal(
      () => {
        shutdowns++;
        return Promise.resolve();
      },
      { target },
    );
    expect(target.listenerCount('SIGTERM')).toBe(1);
    expect(target.listenerCount('SIGINT')).toBe(1);
    target.emit('SIGTERM');
    expect(target.listenerCount('SIGINT')).toBe(0); // all of Ballast's listeners are gone after the first
    await tick(); // the shutdown promise and its finally have settled
    expect(shutdowns).toBe(1);
    expect(target.killed).toEqual([[4242, 'SIGTERM']]);
  });

  it('leaves ending the process to the application when it listens too', async () => {
    const target = new FakeProcess();
    target.on('SIGINT', () => {});
    let resolveShutdown!: () => void;
    const shutdownDone = new Promise<void>((r) => (resolveShutdown = r));
    onShutdownSignal(
      () => {
        resolveShutdown();
        return Promise.resolve();
      },
      { target, signals: ['SIGINT'] },
    );
    target.emit('SIGINT');
    await shutdownDone;
    await tick();
    expect(target.killed).toEqual([]);
  });

  it('can be disposed', () => {
    const target = new FakeProcess();
    onShutdownSignal(() => Promise.resolve(), { target }).dispose();
    expect(target.listenerCount('SIGTERM')).toBe(0);
  });
});

describe('startTelemetry', () => {
  it('starts nothing when OTEL_SDK_DISABLED=true', async () => {
    process.env.OTEL_SDK_DISABLED = 'true';
    const handle = startTelemetry({ handleSignals: false });
    expect(handle.enabled).toBe(false);
    await handle.shutdown();
    // A second call is allowed: nothing was started.
    expect(startTelemetry({ handleSignals: false }).enabled).toBe(false);
  });

  it('honours OTEL_SERVICE_NAME over the option, exports to a given exporter and removes its signal listeners', async () => {
    process.env.OTEL_SERVICE_NAME = 'from-env';
    const exporter = new InMemorySpanExporter();
    const target = new FakeProcess();
    const handle = startTelemetry({ serviceName: 'from-option', exporter, handleSignals: { target } });
    expect(target.listenerCount('SIGTERM')).toBe(1);
    trace.getTracer('t').startSpan('work').end();
    await handle.forceFlush();
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => s.name)).toEqual(['work']);
    expect(spans[0]!.resource.attributes['service.name']).toBe('from-env');
    await handle.shutdown();
    expect(target.listenerCount('SIGTERM')).toBe(0);
  });

  it('adds span events for retries, breaker rejections and sheds to the active span', async () => {
    const exporter = new InMemorySpanExporter();
    const handle = startTelemetry({ exporter, handleSignals: false });
    const metrics = createMetricsRegistry();
    const retry = new FakePolicy('retry', 'retry');
    const breaker = new FakePolicy('breaker', 'circuit-breaker');
    const limiter = new FakePolicy('limiter', 'concurrency-limiter');
    observePolicies(metrics, [retry, breaker, limiter]);
    trace.getTracer('t').startActiveSpan('checkout', (span) => {
      retry.emit({ type: 'retry', attempt: 1, delayMs: 20, error: new Error('x') });
      breaker.emit({ type: 'rejected', reason: 'circuit-open' });
      limiter.emit({ type: 'rejected', reason: 'shed', priority: 'sheddable' });
      span.end();
    });
    await handle.forceFlush();
    const [span] = exporter.getFinishedSpans();
    expect(span!.events.map((e) => [e.name, e.attributes?.['ballast.policy']])).toEqual([
      ['ballast.retry', 'retry'],
      ['ballast.circuit_open', 'breaker'],
      ['ballast.load_shed', 'limiter'],
    ]);
    expect(span!.events[0]!.attributes?.['ballast.retry.attempt']).toBe(1);
    expect(span!.events[2]!.attributes?.['ballast.priority']).toBe('sheddable');
    await handle.shutdown();
  });

  it('rejects a bad sample ratio with the option template', () => {
    expect(() => startTelemetry({ sampleRatio: 2, handleSignals: false })).toThrow(
      'Expected `sampleRatio` to be a finite number >= 0 <= 1, got `2` (number)',
    );
  });
});
