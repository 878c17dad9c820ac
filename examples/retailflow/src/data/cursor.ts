import { checkNumber } from '@ballast/core';
import { InvalidCursorError } from './errors.js';

/**
 * Page size when a request gives none.
 *
 * @example
 * ```ts
 * import { DEFAULT_PAGE_LIMIT } from './data/index.js';
 * const limit = Number(req.query.limit ?? DEFAULT_PAGE_LIMIT);
 * ```
 */
export const DEFAULT_PAGE_LIMIT = 20;

/**
 * Largest page size a list accepts; a larger `limit` is a bad option.
 *
 * @example
 * ```ts
 * import { MAX_PAGE_LIMIT } from './data/index.js';
 * const schema = { type: 'integer', minimum: 1, maximum: MAX_PAGE_LIMIT };
 * ```
 */
export const MAX_PAGE_LIMIT = 100;

/** Checks a page limit (an integer 1–100, default 20). */
export function pageLimit(limit: unknown): number {
  return checkNumber('limit', limit, DEFAULT_PAGE_LIMIT, { integer: true, min: 1, max: MAX_PAGE_LIMIT });
}

/** Encodes the keyset position after the last item of a page as an opaque URL-safe string. */
export function encodeCursor(position: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor made by {@link encodeCursor} whose parts have the given `shape` (`'s'` string, `'n'` number);
 * throws an {@link InvalidCursorError} otherwise.
 */
export function decodeCursor(cursor: string, shape: readonly ('s' | 'n')[]): (string | number)[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidCursorError(cursor);
  }
  if (
    !Array.isArray(parsed) ||
    parsed.length !== shape.length ||
    !parsed.every((part, i) =>
      shape[i] === 's' ? typeof part === 'string' : typeof part === 'number' && Number.isFinite(part),
    )
  ) {
    throw new InvalidCursorError(cursor);
  }
  return parsed as (string | number)[];
}
