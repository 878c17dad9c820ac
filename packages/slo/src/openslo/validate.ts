import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { SpecDocument, SpecPath } from './document.js';
import { shown, type SpecError } from './errors.js';
import { SCHEMAS, SPEC_KINDS, type SpecKind } from './schema.js';

interface SchemaNode {
  readonly expected?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly enum?: readonly unknown[];
  readonly type?: string | readonly string[];
}

let compiled: Readonly<Record<SpecKind, ValidateFunction>> | undefined;

function validators(): Readonly<Record<SpecKind, ValidateFunction>> {
  if (!compiled) {
    const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
    ajv.addVocabulary(['expected']);
    compiled = Object.fromEntries(SPEC_KINDS.map((k) => [k, ajv.compile(SCHEMAS[k])])) as Record<
      SpecKind,
      ValidateFunction
    >;
  }
  return compiled;
}

function pointerToPath(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: '`true` or `false`',
};

function describeExpected(schema: SchemaNode | undefined, error: ErrorObject): string {
  if (schema?.expected) return schema.expected;
  if (error.keyword === 'type') {
    const types = ([] as string[]).concat(error.params.type as string | string[]);
    return types.map((t) => TYPE_NAMES[t] ?? t).join(' or ');
  }
  return error.message ?? 'something else';
}

/** Turns one Ajv error into a located message. */
function toSpecError(doc: SpecDocument, error: ErrorObject): SpecError {
  const path: SpecPath = pointerToPath(error.instancePath);
  const parent = error.parentSchema as SchemaNode | undefined;
  switch (error.keyword) {
    case 'additionalProperties': {
      const key = String(error.params.additionalProperty);
      const known = Object.keys(parent?.properties ?? {});
      return doc.error(
        path,
        `unknown field \`${key}\`; expected one of ${known.map((k) => `\`${k}\``).join(', ')}`,
        key,
      );
    }
    case 'required': {
      const missing = String(error.params.missingProperty);
      const what = parent?.properties?.[missing]?.expected;
      return doc.error(path, `missing required field \`${missing}\`${what ? ` (${what})` : ''}`);
    }
    case 'minItems':
    case 'maxItems':
      return doc.error(
        path,
        `expected ${describeExpected(parent, error)}, got ${(error.data as unknown[]).length} item(s)`,
      );
    default:
      return doc.error(path, `expected ${describeExpected(parent, error)}, got ${shown(error.data)}`);
  }
}

/**
 * Validates one document against the schema of its kind and returns every problem, located, and whether the
 * known fields are all well-formed (`shapeOk`: the only problems are unknown fields), in which case references and
 * cross-field rules can still be checked. The `kind` must have been checked before.
 */
export function validateDocument(
  doc: SpecDocument,
  kind: SpecKind,
): { errors: SpecError[]; shapeOk: boolean } {
  const validate = validators()[kind];
  if (validate(doc.value)) return { errors: [], shapeOk: true };
  const errors: SpecError[] = [];
  const seen = new Set<string>();
  for (const error of validate.errors ?? []) {
    const e = toSpecError(doc, error);
    // A value that is both the wrong type and fails a pattern yields two Ajv errors at one place; keep the first.
    const key = `${e.line}:${e.column}:${e.path}:${error.keyword === 'required' ? e.message : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(e);
  }
  const shapeOk = (validate.errors ?? []).every((e) => e.keyword === 'additionalProperties');
  return { errors, shapeOk };
}
