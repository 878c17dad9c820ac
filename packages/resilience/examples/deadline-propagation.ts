import type { Clock } from '@ballast/core';
import { DEADLINE_HEADER, type Deadline, TimeoutPolicy, readDeadlineHeader } from '@ballast/resilience';

/**
 * An HTTP handler that honours the caller's budget: it reads `x-request-deadline-ms`, refuses work that can no
 * longer be useful, and gives each downstream call the smaller of its own timeout and what is left.
 */
export function createHandler(
  downstream: (deadline: Deadline | undefined) => Promise<string>,
  clock?: Clock,
) {
  const time = clock ? { clock } : {};
  const step = new TimeoutPolicy({ name: 'lookup', timeoutMs: 500, ...time });
  return async (headers: Record<string, string | undefined>): Promise<{ status: number; body: string }> => {
    const deadline = readDeadlineHeader(headers, { defaultMs: 2_000, maxMs: 10_000, ...time });
    if (deadline?.expired) return { status: 504, body: 'deadline already passed' };
    try {
      const body = await step.execute((ctx) => downstream(ctx.deadline), deadline ? { deadline } : {});
      return { status: 200, body };
    } catch (error) {
      return { status: 504, body: (error as Error).name };
    }
  };
}

export { DEADLINE_HEADER };
