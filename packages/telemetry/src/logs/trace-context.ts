import { isSpanContextValid } from '@opentelemetry/api';
import { activeSpan } from '../http/exemplar.js';

/** The trace context a log line carries, named as in the OpenTelemetry log data model. */
export interface TraceLogFields {
  /** 32 lower-case hex characters. */
  readonly trace_id?: string;
  /** 16 lower-case hex characters: the span active when the line was written. */
  readonly span_id?: string;
  /** `01` when the trace is sampled (exported), `00` when it is not. */
  readonly trace_flags?: string;
}

/**
 * The active OpenTelemetry span's trace context as log fields (`trace_id`, `span_id`, `trace_flags`), or no fields
 * outside a valid span. Give it to pino as its `mixin` and every line written inside a traced request joins its
 * trace: search the logs for the `trace_id` of an exemplar or a trace, or open the trace of a log line. Costs one
 * context lookup per line, and never throws.
 *
 * @example
 * ```ts
 * import pino from 'pino';
 * import { traceLogMixin } from '@ballast/telemetry';
 * const logger = pino({ mixin: traceLogMixin });
 * logger.error({ err }, 'payment failed'); // {"level":50,...,"trace_id":"4bf9…","span_id":"00f0…","trace_flags":"01"}
 * ```
 */
export function traceLogMixin(): TraceLogFields {
  try {
    const span = activeSpan();
    // A fresh object every time: pino's default merge strategy assigns the line's fields into it.
    if (span === undefined) return {};
    const ctx = span.spanContext();
    if (!isSpanContextValid(ctx)) return {};
    return {
      trace_id: ctx.traceId,
      span_id: ctx.spanId,
      trace_flags: (ctx.traceFlags & 0xff).toString(16).padStart(2, '0'),
    };
  } catch {
    return {};
  }
}
