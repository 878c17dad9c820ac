import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';

/**
 * Where the event schemas live: `examples/retailflow/events/schemas/<type>/v<N>.schema.json` (the same path from
 * `src/events` and from `dist/events`).
 */
export const DEFAULT_SCHEMA_DIR = fileURLToPath(new URL('../../events/schemas/', import.meta.url));

const VERSION_FILE = /^v([1-9][0-9]*)\.schema\.json$/;

/** One schema file of the registry. */
export interface EventSchemaFile {
  readonly type: string;
  readonly version: number;
  /** Path of the file. */
  readonly path: string;
  /** The parsed JSON Schema (draft 2020-12). */
  readonly schema: Readonly<Record<string, unknown>>;
}

/** Outcome of {@link EventSchemaRegistry.validate}: `ok`, or the problems with their JSON pointers. */
export type SchemaCheck = { readonly ok: true } | { readonly ok: false; readonly errors: readonly string[] };

/**
 * The registry of event payload schemas, kept as files beside the code (no registry server): one directory per
 * event type, one `v<N>.schema.json` per version. Versions of a type are numbered from 1 without gaps; a new
 * version never edits an old file (the compatibility gate in `npm test` checks both).
 *
 * @example
 * ```ts
 * import { EventSchemaRegistry } from './events/index.js';
 * const registry = EventSchemaRegistry.fromDirectory();
 * registry.latest('order.confirmed'); // 1
 * const check = registry.validate('order.confirmed', 1, payload);
 * if (!check.ok) console.warn(check.errors.join('; '));
 * ```
 */
export class EventSchemaRegistry {
  readonly #files = new Map<string, Map<number, EventSchemaFile>>();
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #ajv = new Ajv2020({ allErrors: true, strict: true, validateFormats: false });

  /**
   * A registry of `files`. Throws a `TypeError` naming the file when versions of a type have a gap or a schema does
   * not compile.
   */
  constructor(files: readonly EventSchemaFile[]) {
    for (const file of files) {
      let versions = this.#files.get(file.type);
      if (!versions) this.#files.set(file.type, (versions = new Map<number, EventSchemaFile>()));
      if (versions.has(file.version)) {
        throw new TypeError(`event schema ${file.type} v${file.version} is defined twice (${file.path})`);
      }
      versions.set(file.version, file);
    }
    for (const [type, versions] of this.#files) {
      for (let v = 1; v <= versions.size; v++) {
        if (!versions.has(v)) {
          throw new TypeError(
            `event schemas of ${type}: expected versions 1..${versions.size} without gaps, v${v} is missing`,
          );
        }
      }
    }
  }

  /**
   * Reads every `<type>/v<N>.schema.json` under `dir`. Throws a `TypeError` naming the file for one that is not
   * JSON or not an object.
   *
   * @default dir DEFAULT_SCHEMA_DIR
   * @example
   * ```ts
   * const registry = EventSchemaRegistry.fromDirectory('examples/retailflow/events/schemas');
   * ```
   */
  static fromDirectory(dir: string = DEFAULT_SCHEMA_DIR): EventSchemaRegistry {
    return new EventSchemaRegistry(readSchemaFiles(dir));
  }

  /** Event types with at least one schema, sorted. */
  types(): string[] {
    return [...this.#files.keys()].sort();
  }

  /** Versions of `type`, ascending (empty for an unknown type). */
  versions(type: string): number[] {
    return [...(this.#files.get(type)?.keys() ?? [])].sort((a, b) => a - b);
  }

  /** The newest version of `type`, or `undefined` for a type without schemas. */
  latest(type: string): number | undefined {
    const versions = this.#files.get(type);
    return versions ? versions.size : undefined;
  }

  /** The schema file of `type` at `version`, or `undefined`. */
  file(type: string, version: number): EventSchemaFile | undefined {
    return this.#files.get(type)?.get(version);
  }

  /** Checks `payload` against `type` at `version`; an unknown type or version is an error too. */
  validate(type: string, version: number, payload: unknown): SchemaCheck {
    const file = this.file(type, version);
    if (!file) {
      const known = this.versions(type);
      return {
        ok: false,
        errors: [
          known.length === 0
            ? `no schema for event type ${type} (add events/schemas/${type}/v1.schema.json)`
            : `no schema for ${type} v${version} (known: ${known.map((v) => `v${v}`).join(', ')})`,
        ],
      };
    }
    const key = `${type}@${version}`;
    let validate = this.#validators.get(key);
    if (!validate) {
      validate = this.#ajv.compile(file.schema);
      this.#validators.set(key, validate);
    }
    if (validate(payload)) return { ok: true };
    return { ok: false, errors: (validate.errors ?? []).map(describeError) };
  }
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? 'payload' : `payload${error.instancePath}`;
  if (error.keyword === 'required') {
    return `${where} has no \`${String((error.params as { missingProperty: string }).missingProperty)}\``;
  }
  if (error.keyword === 'enum') {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    return `${where} must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `${where} ${error.message ?? 'is invalid'}`;
}

/** Reads the schema files under `dir` (`<type>/v<N>.schema.json`); other files are ignored. */
export function readSchemaFiles(dir: string): EventSchemaFile[] {
  const files: EventSchemaFile[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue;
    for (const name of readdirSync(join(dir, entry.name))) {
      const match = VERSION_FILE.exec(name);
      if (!match) continue;
      const path = join(dir, entry.name, name);
      let schema: unknown;
      try {
        schema = JSON.parse(readFileSync(path, 'utf8'));
      } catch (error) {
        throw new TypeError(`event schema ${path} is not JSON: ${(error as Error).message}`, {
          cause: error,
        });
      }
      if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
        throw new TypeError(`event schema ${path}: expected a JSON Schema object`);
      }
      files.push({
        type: entry.name,
        version: Number(match[1]),
        path,
        schema: schema as Record<string, unknown>,
      });
    }
  }
  return files;
}

let shared: EventSchemaRegistry | undefined;

/**
 * The registry of RetailFlow's own schemas ({@link DEFAULT_SCHEMA_DIR}), read once.
 *
 * @example
 * ```ts
 * import { eventSchemas } from './events/index.js';
 * eventSchemas().latest('order.payment_failed'); // 2
 * ```
 */
export function eventSchemas(): EventSchemaRegistry {
  return (shared ??= EventSchemaRegistry.fromDirectory());
}
