import { isDeepStrictEqual } from 'node:util';
import type { EventSchemaFile } from './schemas.js';
import type { Upcaster } from './upcasters.js';

/** One reason a schema cannot read what the previous one accepted. */
export interface SchemaBreak {
  /** Where, as a field path: `items[].quantity`, or `(payload)` for the root. */
  readonly path: string;
  /** The rule broken. */
  readonly rule:
    | 'changed-type'
    | 'narrowed-enum'
    | 'new-required-field'
    | 'removed-required-field'
    | 'closed-content'
    | 'tightened-constraint'
    | 'unsupported-change';
  /** What broke, in words. */
  readonly message: string;
}

type Schema = Readonly<Record<string, unknown>>;

const KNOWN = new Set([
  '$schema',
  '$id',
  '$comment',
  'title',
  'description',
  'examples',
  'default',
  'deprecated',
  'type',
  'enum',
  'const',
  'properties',
  'required',
  'additionalProperties',
  'items',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'pattern',
  'format',
]);

/** Lower bounds: raising one rejects values the previous schema accepted. */
const LOWER = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems'] as const;
/** Upper bounds: lowering one rejects values the previous schema accepted. */
const UPPER = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems'] as const;

const asSchema = (v: unknown): Schema | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Schema) : undefined;

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** The JSON types a schema admits, or `undefined` for any. */
function typesOf(schema: Schema): Set<string> | undefined {
  if (typeof schema.type === 'string') return new Set([schema.type]);
  if (Array.isArray(schema.type)) return new Set(schema.type as string[]);
  if (Array.isArray(schema.enum)) return new Set((schema.enum as unknown[]).map(jsonType));
  if ('const' in schema) return new Set([jsonType(schema.const)]);
  return undefined;
}

const accepts = (types: Set<string>, type: string): boolean =>
  types.has(type) || (type === 'integer' && types.has('number'));

const show = (types: Set<string> | undefined): string => (types ? [...types].join(' | ') : 'any');
const join = (path: string, key: string): string => (path === '' ? key : `${path}.${key}`);
const where = (path: string): string => (path === '' ? '(payload)' : path);

/**
 * The ways `next` fails to read data written under `previous`, in schema-registry BACKWARD mode (a consumer with
 * the new schema reads events written with the old one): a type changed or narrowed, an enum or const narrowed, a
 * required field added without a `default`, the content model closed (`additionalProperties: false`), a bound or
 * pattern tightened, and — stricter than BACKWARD, because readers of the old version use it — a required field
 * removed. Changes it cannot reason about (`oneOf`, `$ref`, …) are reported as `unsupported-change`, never
 * passed silently. An empty list means compatible.
 *
 * @example
 * ```ts
 * import { backwardBreaks } from './events/index.js';
 * const breaks = backwardBreaks(v1, v2);
 * for (const b of breaks) console.log(`${b.path}: ${b.message}`);
 * ```
 */
export function backwardBreaks(previous: Schema, next: Schema): SchemaBreak[] {
  const out: SchemaBreak[] = [];
  compare(previous, next, '', out);
  return out;
}

function compare(prev: Schema, next: Schema, path: string, out: SchemaBreak[]): void {
  for (const key of new Set([...Object.keys(prev), ...Object.keys(next)])) {
    if (!KNOWN.has(key) && !isDeepStrictEqual(prev[key], next[key])) {
      out.push({
        path: where(path),
        rule: 'unsupported-change',
        message: `\`${key}\` changed and the gate cannot prove the change compatible`,
      });
    }
  }

  const prevTypes = typesOf(prev);
  const nextTypes = typesOf(next);
  if (nextTypes && (!prevTypes || [...prevTypes].some((t) => !accepts(nextTypes, t)))) {
    out.push({
      path: where(path),
      rule: 'changed-type',
      message: `type changed from ${show(prevTypes)} to ${show(nextTypes)}`,
    });
  }

  const prevValues: unknown[] | undefined = Array.isArray(prev.enum)
    ? (prev.enum as unknown[])
    : 'const' in prev
      ? [prev.const]
      : undefined;
  const nextValues: unknown[] | undefined = Array.isArray(next.enum)
    ? (next.enum as unknown[])
    : 'const' in next
      ? [next.const]
      : undefined;
  if (nextValues) {
    const lost = prevValues
      ? prevValues.filter((v) => !nextValues.some((n) => isDeepStrictEqual(n, v)))
      : undefined;
    if (!lost) {
      out.push({
        path: where(path),
        rule: 'narrowed-enum',
        message: `now limited to ${nextValues.map((v) => JSON.stringify(v)).join(', ')} (any value before)`,
      });
    } else if (lost.length > 0) {
      out.push({
        path: where(path),
        rule: 'narrowed-enum',
        message: `enum narrowed: ${lost.map((v) => JSON.stringify(v)).join(', ')} no longer allowed`,
      });
    }
  }

  for (const key of LOWER) {
    const a = prev[key];
    const b = next[key];
    if (typeof b === 'number' && (typeof a !== 'number' || b > a)) {
      out.push({
        path: where(path),
        rule: 'tightened-constraint',
        message: `\`${key}\` tightened from ${typeof a === 'number' ? a : 'none'} to ${b}`,
      });
    }
  }
  for (const key of UPPER) {
    const a = prev[key];
    const b = next[key];
    if (typeof b === 'number' && (typeof a !== 'number' || b < a)) {
      out.push({
        path: where(path),
        rule: 'tightened-constraint',
        message: `\`${key}\` tightened from ${typeof a === 'number' ? a : 'none'} to ${b}`,
      });
    }
  }
  for (const key of ['pattern', 'format'] as const) {
    if (next[key] !== undefined && next[key] !== prev[key]) {
      out.push({
        path: where(path),
        rule: 'tightened-constraint',
        message: `\`${key}\` ${prev[key] === undefined ? 'added' : 'changed'}: ${JSON.stringify(next[key])}`,
      });
    }
  }

  // Objects: required fields, the content model, and each property both versions declare.
  const prevProps = asSchema(prev.properties) ?? {};
  const nextProps = asSchema(next.properties) ?? {};
  const prevRequired = new Set(Array.isArray(prev.required) ? (prev.required as string[]) : []);
  const nextRequired = new Set(Array.isArray(next.required) ? (next.required as string[]) : []);
  for (const field of nextRequired) {
    if (prevRequired.has(field)) continue;
    if (asSchema(nextProps[field])?.default !== undefined) continue;
    out.push({
      path: join(path, field),
      rule: 'new-required-field',
      message: 'new required field without a default: events written before it do not have it',
    });
  }
  for (const field of prevRequired) {
    if (field in nextProps || nextRequired.has(field)) continue;
    out.push({
      path: join(path, field),
      rule: 'removed-required-field',
      message: 'required field removed: readers of the previous version rely on it',
    });
  }
  if (
    asSchema(next.additionalProperties) &&
    !isDeepStrictEqual(prev.additionalProperties, next.additionalProperties)
  ) {
    out.push({
      path: where(path),
      rule: 'unsupported-change',
      message: '`additionalProperties` changed to a schema and the gate cannot prove the change compatible',
    });
  } else if (next.additionalProperties === false && prev.additionalProperties !== false) {
    out.push({
      path: where(path),
      rule: 'closed-content',
      message: '`additionalProperties: false` added: fields unknown to this version are now rejected',
    });
  } else if (next.additionalProperties === false) {
    for (const field of Object.keys(prevProps)) {
      if (!(field in nextProps)) {
        out.push({
          path: join(path, field),
          rule: 'closed-content',
          message: 'field removed from a closed object: events that carry it are now rejected',
        });
      }
    }
  }
  for (const [field, prevField] of Object.entries(prevProps)) {
    const nextField = asSchema(nextProps[field]);
    const prevSchema = asSchema(prevField);
    if (nextField && prevSchema) compare(prevSchema, nextField, join(path, field), out);
  }
  const prevItems = asSchema(prev.items);
  const nextItems = asSchema(next.items);
  if (nextItems) compare(prevItems ?? {}, nextItems, `${path}[]`, out);
}

/** One problem the registry gate found. */
export interface RegistryProblem {
  readonly type: string;
  readonly version: number;
  /** The whole explanation, naming the field and what broke. */
  readonly message: string;
}

/** Inputs of {@link checkSchemaRegistry}. */
export interface RegistryGateInput {
  /** The schema files as they are now. */
  readonly files: readonly EventSchemaFile[];
  /** The upcasters the code registers. */
  readonly upcasters: readonly Upcaster[];
  /**
   * Each version as it was first published (e.g. read from git), keyed `<type>@<version>`, with where it comes
   * from (`label`, e.g. a commit). A published version may only change compatibly, and may not disappear.
   * @default new Map() (no history)
   */
  readonly published?: ReadonlyMap<string, { readonly schema: Schema; readonly label: string }>;
}

/**
 * The schema-registry gate: for every event type, each version must be readable by the next one (BACKWARD, see
 * {@link backwardBreaks}) unless an upcaster lifts it; every upcaster must belong to a version step that exists;
 * and a published version may not be edited incompatibly in place nor deleted. An empty list means the registry
 * passes.
 *
 * @example
 * ```ts
 * import { UPCASTERS, checkSchemaRegistry, readSchemaFiles, DEFAULT_SCHEMA_DIR } from './events/index.js';
 * const problems = checkSchemaRegistry({ files: readSchemaFiles(DEFAULT_SCHEMA_DIR), upcasters: UPCASTERS });
 * for (const p of problems) console.error(p.message);
 * ```
 */
export function checkSchemaRegistry(input: RegistryGateInput): RegistryProblem[] {
  const problems: RegistryProblem[] = [];
  const byType = new Map<string, Map<number, EventSchemaFile>>();
  for (const file of input.files) {
    let versions = byType.get(file.type);
    if (!versions) byType.set(file.type, (versions = new Map<number, EventSchemaFile>()));
    versions.set(file.version, file);
  }
  const describe = (breaks: readonly SchemaBreak[]) =>
    breaks.map((b) => `  - ${b.path}: ${b.message} [${b.rule}]`).join('\n');

  for (const [type, versions] of byType) {
    const numbers = [...versions.keys()].sort((a, b) => a - b);
    numbers.forEach((v, i) => {
      if (v !== i + 1) {
        problems.push({
          type,
          version: v,
          message: `${type}: versions must run 1, 2, 3… without gaps; found ${numbers.map((n) => `v${n}`).join(', ')}`,
        });
      }
    });
    for (const v of numbers) {
      const previous = versions.get(v - 1);
      if (!previous) continue;
      const breaks = backwardBreaks(previous.schema, versions.get(v)!.schema);
      const lifted = input.upcasters.some((u) => u.type === type && u.from === v - 1);
      if (breaks.length > 0 && !lifted) {
        problems.push({
          type,
          version: v,
          message:
            `${type} v${v} cannot read events written as v${v - 1} (BACKWARD) and no upcaster lifts ` +
            `v${v - 1} → v${v} (add one to UPCASTERS in src/events/upcasters.ts):\n${describe(breaks)}`,
        });
      }
    }
  }

  for (const u of input.upcasters) {
    const versions = byType.get(u.type);
    if (!versions?.has(u.from) || !versions.has(u.from + 1)) {
      problems.push({
        type: u.type,
        version: u.from + 1,
        message: `upcaster ${u.type} v${u.from} → v${u.from + 1} has no schema files for both versions`,
      });
    }
  }

  for (const [key, first] of input.published ?? new Map<string, never>()) {
    const at = key.lastIndexOf('@');
    const type = key.slice(0, at);
    const version = Number(key.slice(at + 1));
    const now = byType.get(type)?.get(version);
    if (!now) {
      problems.push({
        type,
        version,
        message: `${type} v${version} was published (${first.label}) and its schema file is gone: published versions stay`,
      });
      continue;
    }
    const breaks = backwardBreaks(first.schema, now.schema);
    if (breaks.length > 0) {
      problems.push({
        type,
        version,
        message:
          `${type} v${version} was changed in place since it was published (${first.label}); events already ` +
          `written as v${version} would not read. Restore it and add v${version + 1} with an upcaster:\n${describe(breaks)}`,
      });
    }
  }
  return problems;
}
