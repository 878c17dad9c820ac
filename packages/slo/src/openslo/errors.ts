import { brand, hasBrand } from '@ballast/core';

/**
 * One problem in a spec file, located: file, 1-based line and column, the path inside the YAML document
 * (`spec.objectives[0].target`, `''` for the document itself) and a message saying what was expected.
 *
 * @example
 * ```ts
 * const e: SpecError = {
 *   file: 'slos.yaml', line: 12, column: 15, document: 1,
 *   path: 'spec.objectives[0].target', message: 'expected a ratio between 0 and 1 (exclusive) such as `0.999`, got `1.5` (number)',
 * };
 * ```
 */
export interface SpecError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** 0-based index of the YAML document in the file. */
  readonly document: number;
  readonly path: string;
  readonly message: string;
}

/**
 * Formats a {@link SpecError} the way compilers do: `file:line:column: path: message`.
 *
 * @example
 * ```ts
 * import { formatSpecError } from '@ballast/slo';
 * formatSpecError(error); // 'slos.yaml:12:15: spec.objectives[0].target: expected a ratio ...'
 * ```
 */
export function formatSpecError(error: SpecError): string {
  return `${error.file}:${error.line}:${error.column}: ${error.path === '' ? '' : `${error.path}: `}${error.message}`;
}

const kSpecValidationError = Symbol.for('ballast.slo.SpecValidationError');

/**
 * Thrown by {@link loadSlos} and {@link parseSlos} when specs do not validate; `errors` holds every problem found.
 *
 * @example
 * ```ts
 * import { isSpecValidationError, loadSlos } from '@ballast/slo';
 * try { await loadSlos(['slos.yaml']); } catch (e) { if (isSpecValidationError(e)) console.error(e.message); }
 * ```
 */
export class SpecValidationError extends Error {
  readonly errors: readonly SpecError[];
  constructor(errors: readonly SpecError[]) {
    super(
      `${errors.length} error${errors.length === 1 ? '' : 's'} in SLO specs:\n${errors.map(formatSpecError).join('\n')}`,
    );
    this.name = 'SpecValidationError';
    this.errors = errors;
    brand(this, kSpecValidationError);
  }
}

/**
 * True when `value` is a {@link SpecValidationError}, even from another copy of the package.
 * @example
 * ```ts
 * if (isSpecValidationError(error)) for (const e of error.errors) console.error(formatSpecError(e));
 * ```
 */
export function isSpecValidationError(value: unknown): value is SpecValidationError {
  return hasBrand(value, kSpecValidationError);
}

/** Shows a value from a spec in a message: `` `1.5` (number) ``. */
export function shown(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  if (text.length > 60) text = `${text.slice(0, 57)}...`;
  const type =
    value === null
      ? 'null'
      : Array.isArray(value)
        ? 'list'
        : typeof value === 'object'
          ? 'mapping'
          : typeof value;
  return `\`${text}\` (${type})`;
}
