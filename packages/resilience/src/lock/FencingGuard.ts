import { invalidOption } from '@ballast/core';
import { StaleTokenError } from './StaleTokenError.js';

/**
 * The resource side of fencing, in memory: remembers the highest token seen per resource and refuses anything
 * lower (compare-and-set). Equal tokens pass, so one holder may write many times. Use it inside the process that
 * owns the resource (a file writer, an in-memory ledger, a test double); a resource shared between processes keeps
 * the highest token next to its data instead (a column checked in the same `UPDATE`, see the decision record on
 * replication and partitions).
 *
 * @example
 * ```ts
 * import { FencingGuard } from '@ballast/resilience';
 * const guard = new FencingGuard();
 * guard.assertFresh(7); // ok, highest is now 7
 * guard.assertFresh(6); // throws StaleTokenError
 * ```
 */
export class FencingGuard {
  readonly #highest = new Map<string, number>();

  /**
   * Accepts `token` for `resource` if it is at least the highest seen (and records it), else throws
   * {@link StaleTokenError}.
   *
   * @param resource - which resource is written. @default 'default'
   */
  assertFresh(token: number, resource = 'default'): void {
    if (!this.tryAccept(token, resource)) {
      throw new StaleTokenError(resource, token, this.#highest.get(resource) ?? 0);
    }
  }

  /** Like {@link assertFresh} but answers `false` instead of throwing. @default resource 'default' */
  tryAccept(token: number, resource = 'default'): boolean {
    if (!Number.isSafeInteger(token) || token < 0) {
      throw invalidOption('token', 'a safe integer >= 0', token);
    }
    const highest = this.#highest.get(resource) ?? 0;
    if (token < highest) return false;
    this.#highest.set(resource, token);
    return true;
  }

  /** The highest token accepted for `resource` (0 when none). @default resource 'default' */
  highest(resource = 'default'): number {
    return this.#highest.get(resource) ?? 0;
  }
}
