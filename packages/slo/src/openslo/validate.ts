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
 * Parts of OpenSLO that Ballast does not read, each reported as one error naming what is not supported and what to
 * write instead (rather than the schema's list of unknown fields and missing ones): a metric source of another
 * type than Prometheus (or only a `metricSourceRef` to a DataSource), and `raw` (precomputed) ratio metrics. Returns
 * the errors and the paths they cover (the schema's errors inside those are dropped).
 */
function unsupported(doc: SpecDocument): { errors: SpecError[]; covered: SpecPath[] } {
  const errors: SpecError[] = [];
  const covered: SpecPath[] = [];
  const visit = (value: unknown, path: SpecPath): void => {
    if (value === null || typeof value !== 'object') return;
    if (Array.isArray(value)) {
      value.forEach((item, i) => visit(item, [...path, i]));
      return;
    }
    const record = value as Record<string, unknown>;
    for (const [key, child] of Object.entries(record)) {
      const at = [...path, key];
      if (key === 'metricSource' && child !== null && typeof child === 'object' && !Array.isArray(child)) {
        const source = child as Record<string, unknown>;
        const type = source.type;
        if (typeof type === 'string' && type.toLowerCase() !== 'prometheus') {
          covered.push(at);
          errors.push(
            doc.error(
              [...at, 'type'],
              `unsupported indicator source \`${type}\`: Ballast reads Prometheus only (\`type: Prometheus\` with a PromQL \`spec.query\`)`,
            ),
          );
          continue;
        }
        if (type === undefined && source.metricSourceRef !== undefined) {
          covered.push(at);
          errors.push(
            doc.error(
              at,
              'a `metricSourceRef` without `type` is not supported (Ballast reads no DataSource documents); write `type: Prometheus` and `spec.query`',
              'metricSourceRef',
            ),
          );
          continue;
        }
      }
      if (key === 'ratioMetric' && child !== null && typeof child === 'object' && !Array.isArray(child)) {
        const ratio = child as Record<string, unknown>;
        if (ratio.raw !== undefined || ratio.rawType !== undefined) {
          covered.push(at);
          errors.push(
            doc.error(
              at,
              'a `raw` ratio metric (a precomputed ratio) is not supported: error budgets need counts of events; give `good` or `bad`, and `total`, as counters',
              ratio.raw !== undefined ? 'raw' : 'rawType',
            ),
          );
          continue;
        }
      }
      visit(child, at);
    }
  };
  visit(doc.value, []);
  return { errors, covered };
}

function inside(path: SpecPath, prefix: SpecPath): boolean {
  return prefix.length <= path.length && prefix.every((p, i) => path[i] === p);
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
  const valid = validate(doc.value);
  const { errors: notRead, covered } = unsupported(doc);
  if (valid && notRead.length === 0) return { errors: [], shapeOk: true };
  const errors: SpecError[] = [...notRead];
  const seen = new Set<string>();
  for (const error of valid ? [] : (validate.errors ?? [])) {
    if (covered.some((c) => inside(pointerToPath(error.instancePath), c))) continue;
    const e = toSpecError(doc, error);
    // A value that is both the wrong type and fails a pattern yields two Ajv errors at one place; keep the first.
    const key = `${e.line}:${e.column}:${e.path}:${error.keyword === 'required' ? e.message : ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    errors.push(e);
  }
  const shapeOk =
    notRead.length === 0 &&
    (valid || (validate.errors ?? []).every((e) => e.keyword === 'additionalProperties'));
  return { errors, shapeOk };
}
