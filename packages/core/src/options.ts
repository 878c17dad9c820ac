/**
 * One template for bad options everywhere in Ballast:
 * ``Expected `name` to be <what>, got `<value>` (<type>)``.
 */

function describe(value: unknown): string {
  let shown: string;
  try {
    shown =
      typeof value === 'string'
        ? JSON.stringify(value)
        : typeof value === 'bigint'
          ? `${value}n`
          : String(JSON.stringify(value) ?? String(value));
  } catch {
    shown = String(value);
  }
  if (shown.length > 80) shown = `${shown.slice(0, 77)}...`;
  return `\`${shown}\` (${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value})`;
}

/**
 * Builds the `TypeError` for an option that is not what was expected.
 *
 * @example
 * ```ts
 * import { invalidOption } from '@ballast/core';
 * throw invalidOption('timeoutMs', 'a finite number > 0', -1);
 * // TypeError: Expected `timeoutMs` to be a finite number > 0, got `-1` (number)
 * ```
 */
export function invalidOption(name: string, expected: string, value: unknown): TypeError {
  return new TypeError(`Expected \`${name}\` to be ${expected}, got ${describe(value)}`);
}

/** Bounds for {@link checkNumber}. */
export interface NumberBounds {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Smallest allowed value (exclusive). */
  above?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Require an integer. @default false */
  integer?: boolean;
}

function boundsText(b: NumberBounds): string {
  const parts = [b.integer ? 'an integer' : 'a finite number'];
  if (b.above !== undefined) parts.push(`> ${b.above}`);
  if (b.min !== undefined) parts.push(`>= ${b.min}`);
  if (b.max !== undefined) parts.push(`<= ${b.max}`);
  return parts.join(' ');
}

/**
 * Returns `value` when it is a number within `bounds`, `fallback` when it is `undefined`, and throws the
 * template `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { checkNumber } from '@ballast/core';
 * const limit = checkNumber('limit', undefined, 10, { integer: true, min: 1 }); // 10
 * ```
 */
export function checkNumber(
  name: string,
  value: unknown,
  fallback: number,
  bounds: NumberBounds = {},
): number {
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    (Number.isFinite(value) || (value === Infinity && bounds.max === undefined && !bounds.integer)) &&
    (!bounds.integer || Number.isInteger(value)) &&
    (bounds.min === undefined || value >= bounds.min) &&
    (bounds.above === undefined || value > bounds.above) &&
    (bounds.max === undefined || value <= bounds.max);
  if (!ok) throw invalidOption(name, boundsText(bounds), value);
  return value;
}

/**
 * Returns `value` when it is one of `allowed`, `fallback` when it is `undefined`; throws the template
 * `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { checkOneOf } from '@ballast/core';
 * const mode = checkOneOf('mode', 'open', ['open', 'closed'] as const, 'open');
 * ```
 */
export function checkOneOf<T extends string>(
  name: string,
  value: unknown,
  allowed: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalidOption(name, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

/**
 * Returns `value` when it is a function, `fallback` when `undefined`; throws the template `TypeError` otherwise.
 *
 * @example
 * ```ts
 * import { checkFunction } from '@ballast/core';
 * const isFailure = checkFunction('isFailure', undefined, () => true);
 * ```
 */
export function checkFunction<T extends (...args: never[]) => unknown>(
  name: string,
  value: unknown,
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'function') throw invalidOption(name, 'a function', value);
  return value as T;
}
