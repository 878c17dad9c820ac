import { ROOT_CONTEXT, type Span, context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { RPCType, setRPCMetadata } from '@opentelemetry/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serverSpan } from '../src/http/exemplar.js';

const span = (spanId: string): Span =>
  trace.wrapSpanContext({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId, traceFlags: 1 });

// The server span is read from the RPC metadata slot the HTTP instrumentation writes with @opentelemetry/core; the
// package reads it without depending on @opentelemetry/core, so this pins that both name the same slot.
describe('serverSpan', () => {
  const manager = new AsyncLocalStorageContextManager();
  beforeAll(() => {
    context.setGlobalContextManager(manager.enable());
  });
  afterAll(() => {
    context.disable();
  });

  it('finds the server span that @opentelemetry/core recorded as RPC metadata', () => {
    const server = span('b7ad6b7169203331');
    const middleware = span('00f067aa0ba902b7');
    const ctx = trace.setSpan(setRPCMetadata(ROOT_CONTEXT, { type: RPCType.HTTP, span: server }), middleware);
    expect(context.with(ctx, serverSpan)).toBe(server);
  });

  it('falls back to the active span without RPC metadata', () => {
    const active = span('00f067aa0ba902b7');
    expect(context.with(trace.setSpan(ROOT_CONTEXT, active), serverSpan)).toBe(active);
  });
});
