import { type Clock, systemClock } from '@ballast/core';
import { Deadline } from './Deadline.js';

/**
 * The header that carries a request's remaining budget between services, as whole milliseconds remaining
 * (`x-request-deadline-ms: 742`). Remaining time rather than an absolute timestamp, because hosts' clocks disagree
 * by more than a typical budget; the budget only loses the network transit time, which is small and in the safe
 * direction (the callee thinks it has slightly more time than it does). gRPC's `grpc-timeout` makes the same
 * choice.
 *
 * @example
 * ```ts
 * import { DEADLINE_HEADER } from '@ballast/resilience';
 * res.setHeader('Access-Control-Allow-Headers', DEADLINE_HEADER);
 * ```
 */
export const DEADLINE_HEADER = 'x-request-deadline-ms';

/** Options for {@link readDeadlineHeader}. */
export interface ReadDeadlineOptions {
  /** The clock to anchor the deadline on. @default systemClock */
  readonly clock?: Clock;
  /** Header name. @default 'x-request-deadline-ms' */
  readonly header?: string;
  /** Upper bound on an inbound budget, so a caller cannot ask us to hold work for hours. @default 60000 */
  readonly maxMs?: number;
  /** Budget used when the header is absent or unreadable; `undefined` means no deadline. @default undefined */
  readonly defaultMs?: number;
}

type HeaderBag =
  Record<string, string | string[] | number | undefined> | { get(name: string): string | null };

function headerValue(headers: HeaderBag, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as { get(name: string): string | null }).get(name) ?? undefined;
  }
  const raw = (headers as Record<string, string | string[] | number | undefined>)[name];
  if (Array.isArray(raw)) return raw[0];
  return raw === undefined ? undefined : String(raw);
}

/**
 * Reads the inbound deadline from request headers (a Node `IncomingHttpHeaders` object or a fetch `Headers`).
 * Returns `undefined` when there is no usable header and no `defaultMs`. A value of `0` gives an already-expired
 * deadline, so the server can refuse the work at once.
 *
 * @example
 * ```ts
 * import { readDeadlineHeader } from '@ballast/resilience';
 * const deadline = readDeadlineHeader(req.headers, { defaultMs: 2_000 });
 * ```
 */
export function readDeadlineHeader(
  headers: HeaderBag,
  options: ReadDeadlineOptions = {},
): Deadline | undefined {
  const clock = options.clock ?? systemClock;
  const maxMs = options.maxMs ?? 60_000;
  const text = headerValue(headers, (options.header ?? DEADLINE_HEADER).toLowerCase());
  let ms = text === undefined || !/^\s*\d+(\.\d+)?\s*$/.test(text) ? undefined : Number(text);
  if (ms === undefined) ms = options.defaultMs;
  if (ms === undefined) return undefined;
  return Deadline.after(Math.min(ms, maxMs), clock);
}

/**
 * Writes the remaining budget of `deadline` into outbound headers (floored to whole milliseconds, never negative).
 * Returns the headers object for chaining; does nothing when `deadline` is `undefined`.
 *
 * @example
 * ```ts
 * import { writeDeadlineHeader } from '@ballast/resilience';
 * await fetch(url, { headers: writeDeadlineHeader({}, ctx.deadline) });
 * ```
 */
export function writeDeadlineHeader<
  H extends Record<string, string> | { set(name: string, value: string): void },
>(headers: H, deadline: Deadline | undefined, header: string = DEADLINE_HEADER): H {
  if (!deadline) return headers;
  const value = String(Math.max(0, Math.floor(deadline.remainingMs())));
  if (typeof (headers as { set?: unknown }).set === 'function') {
    (headers as { set(name: string, value: string): void }).set(header, value);
  } else {
    (headers as Record<string, string>)[header] = value;
  }
  return headers;
}
