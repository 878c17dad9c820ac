import {
  type Span,
  TraceFlags,
  context,
  createContextKey,
  isSpanContextValid,
  trace,
} from '@opentelemetry/api';

/**
 * Where the HTTP instrumentation keeps the inbound request's server span (`setRPCMetadata` of `@opentelemetry/core`).
 * `createContextKey` is `Symbol.for(description)`, so this reads the SDK's slot whichever copy wrote it, without
 * `@opentelemetry/core` (and the 10 MB of semantic conventions it brings) at run time.
 */
export const RPC_METADATA_KEY = createContextKey('OpenTelemetry SDK Context Key RPC_METADATA');

/** Exemplar labels linking a histogram bucket to a trace. */
export type TraceExemplar = Record<'trace_id' | 'span_id', string>;

/** The span active in the current context, if any (a no-op API returns none). */
export function activeSpan(): Span | undefined {
  return trace.getSpan(context.active());
}

/**
 * The inbound request's server span: the HTTP instrumentation records it in the context's RPC metadata, while the
 * active span inside an express middleware is that middleware's own span. Falls back to the active span.
 */
export function serverSpan(): Span | undefined {
  const ctx = context.active();
  const metadata = ctx.getValue(RPC_METADATA_KEY) as { readonly span?: Span } | undefined;
  return metadata?.span ?? trace.getSpan(ctx);
}

/** Exemplar labels for `span` when it is valid and sampled (an unsampled trace is never exported, so no link). */
export function exemplarOf(span: Span | undefined): TraceExemplar | undefined {
  if (span === undefined) return undefined;
  const ctx = span.spanContext();
  if ((ctx.traceFlags & TraceFlags.SAMPLED) === 0 || !isSpanContextValid(ctx)) return undefined;
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
