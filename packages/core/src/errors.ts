/**
 * Branding for errors: a guard that checks a well-known symbol instead of `instanceof`, so the check holds even
 * when two copies of a Ballast package are installed side by side.
 */

/**
 * Marks `error` with `brand` (use `Symbol.for('ballast.<Name>')` so copies of the package agree).
 *
 * @example
 * ```ts
 * import { brand, hasBrand } from '@ballast/core';
 * const kind = Symbol.for('ballast.ExampleError');
 * class ExampleError extends Error {
 *   constructor() { super('example'); brand(this, kind); }
 * }
 * hasBrand(new ExampleError(), kind); // true
 * ```
 */
export function brand(error: object, symbol: symbol): void {
  Object.defineProperty(error, symbol, { value: true, enumerable: false });
}

/** True when `value` is an object that carries `symbol` (see {@link brand}). */
export function hasBrand(value: unknown, symbol: symbol): boolean {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[symbol] === true;
}
