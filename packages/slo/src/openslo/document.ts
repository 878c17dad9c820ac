import { isMap, isScalar, type Document, type LineCounter } from 'yaml';
import type { SpecError } from './errors.js';

/** A path inside a YAML document: mapping keys and list indexes. */
export type SpecPath = readonly (string | number)[];

/** Formats a path as `spec.objectives[0].target`. */
export function formatPath(path: SpecPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

interface RangedNode {
  readonly range?: readonly [number, number, number] | null;
}

/**
 * One parsed YAML document of a spec file, with its plain value and a way to turn a path inside it into a
 * located {@link SpecError}.
 */
export class SpecDocument {
  readonly file: string;
  readonly index: number;
  readonly value: unknown;
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(file: string, index: number, doc: Document, lines: LineCounter, value: unknown) {
    this.file = file;
    this.index = index;
    this.#doc = doc;
    this.#lines = lines;
    this.value = value;
  }

  /** The plain value at `path`, `undefined` when absent. */
  get(path: SpecPath): unknown {
    let v: unknown = this.value;
    for (const part of path) {
      if (v === null || typeof v !== 'object') return undefined;
      v = (v as Record<string | number, unknown>)[part];
    }
    return v;
  }

  /** The kind and name for messages: `SLO checkout-availability`. */
  get label(): string {
    const kind = this.get(['kind']);
    const name = this.get(['metadata', 'name']);
    return `${typeof kind === 'string' ? kind : 'document'}${typeof name === 'string' ? ` ${name}` : ''}`;
  }

  /** Offset of the node at `path` (its nearest existing ancestor when absent); with `key`, of that key. */
  #offset(path: SpecPath, key?: string): number {
    for (let n = path.length; n >= 0; n--) {
      const node = this.#doc.getIn(path.slice(0, n), true);
      if (node === undefined || node === null) continue;
      if (key !== undefined && n === path.length && isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
        const start = (pair?.key as RangedNode | undefined)?.range?.[0];
        if (start !== undefined) return start;
      }
      const start = (node as RangedNode).range?.[0];
      if (start !== undefined) return start;
    }
    return (this.#doc.contents as RangedNode | null)?.range?.[0] ?? 0;
  }

  /** A {@link SpecError} at `path` (at the key `key` of the mapping at `path` when given). */
  error(path: SpecPath, message: string, key?: string): SpecError {
    const { line, col } = this.#lines.linePos(this.#offset(path, key));
    const full = key === undefined ? path : [...path, key];
    return { file: this.file, line, column: col, document: this.index, path: formatPath(full), message };
  }
}
