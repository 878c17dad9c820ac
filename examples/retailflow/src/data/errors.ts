import { brand, hasBrand } from '@ballast/core';

const invalidCursorBrand = Symbol.for('ballast.retailflow.InvalidCursorError');

/**
 * A page cursor that this store did not issue (or that was tampered with). Map it to HTTP 400.
 *
 * @example
 * ```ts
 * import { isInvalidCursorError } from './data/index.js';
 * try { await repo.listOrders('acme', { cursor }); } catch (e) { if (isInvalidCursorError(e)) status = 400; }
 * ```
 */
export class InvalidCursorError extends Error {
  constructor(cursor: string) {
    super(`Expected \`cursor\` to be a cursor returned by a previous page, got \`${cursor.slice(0, 40)}\``);
    this.name = 'InvalidCursorError';
    brand(this, invalidCursorBrand);
  }
}

/**
 * True for an {@link InvalidCursorError}, from any copy of the module.
 *
 * @example
 * ```ts
 * if (isInvalidCursorError(error)) res.status(400);
 * ```
 */
export function isInvalidCursorError(error: unknown): error is InvalidCursorError {
  return hasBrand(error, invalidCursorBrand);
}
