import { LineCounter, parseAllDocuments } from 'yaml';
import type { Slo } from '../model.js';
import { buildSlo, type SpecRegistry } from './build.js';
import { SpecDocument } from './document.js';
import { formatSpecError, shown, SpecValidationError, type SpecError } from './errors.js';
import { SPEC_KINDS, type SpecKind } from './schema.js';
import { validateDocument } from './validate.js';

/**
 * One spec file's name (used in error locations) and text.
 *
 * @example
 * ```ts
 * const source: SpecSource = { file: 'slos.yaml', text: 'apiVersion: openslo/v1\nkind: SLO\n...' };
 * ```
 */
export interface SpecSource {
  readonly file: string;
  readonly text: string;
}

/**
 * What {@link parseSpecs} found: the SLOs that validated and every error, located. SLOs come out only when
 * there are no errors at all, so a partly broken set never feeds an engine or a rules file.
 * @example
 * ```ts
 * const { slos, errors }: SpecParseResult = parseSpecs([{ file: 'slos.yaml', text }]);
 * ```
 */
export interface SpecParseResult {
  readonly slos: readonly Slo[];
  readonly errors: readonly SpecError[];
  /** Number of YAML documents read. */
  readonly documents: number;
}

interface Parsed {
  readonly doc: SpecDocument;
  readonly kind: SpecKind;
  /** The known fields are well-formed (unknown fields may have been reported): references can be checked. */
  readonly shapeOk: boolean;
}

function readFile(source: SpecSource, errors: SpecError[], out: Parsed[]): number {
  const lines = new LineCounter();
  const fileError = (offset: number, message: string, document: number): SpecError => {
    const { line, col } = lines.linePos(offset);
    return { file: source.file, line, column: col, document, path: '', message };
  };
  const parsed = parseAllDocuments(source.text, {
    lineCounter: lines,
    prettyErrors: false,
    uniqueKeys: true,
  });
  if (!Array.isArray(parsed)) {
    errors.push(fileError(0, 'expected at least one OpenSLO document, found none', 0));
    return 0;
  }
  let count = 0;
  for (const [index, yamlDoc] of parsed.entries()) {
    if (yamlDoc.errors.length > 0) {
      for (const e of yamlDoc.errors) {
        errors.push(fileError(e.pos[0], `invalid YAML: ${e.message.split('\n')[0]!}`, index));
      }
      continue;
    }
    if (yamlDoc.contents === null) continue; // an empty document (`---` at the end of a file)
    count++;
    let value: unknown;
    try {
      value = yamlDoc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      errors.push(
        fileError(0, `invalid YAML: ${error instanceof Error ? error.message : String(error)}`, index),
      );
      continue;
    }
    const doc = new SpecDocument(source.file, index, yamlDoc, lines, value);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      errors.push(
        doc.error(
          [],
          `expected a mapping with \`apiVersion\`, \`kind\`, \`metadata\` and \`spec\`, got ${shown(value)}`,
        ),
      );
      continue;
    }
    const kind = (value as { kind?: unknown }).kind;
    if (kind === undefined) {
      errors.push(
        doc.error(
          [],
          `missing required field \`kind\` (one of ${SPEC_KINDS.map((k) => `\`${k}\``).join(', ')})`,
        ),
      );
      continue;
    }
    if (kind === 'DataSource') {
      errors.push(
        doc.error(
          ['kind'],
          '`DataSource` documents are not supported: Ballast reads Prometheus only; write `type: Prometheus` and `spec.query` in each `metricSource`',
        ),
      );
      continue;
    }
    if (typeof kind !== 'string' || !(SPEC_KINDS as readonly string[]).includes(kind)) {
      errors.push(
        doc.error(
          ['kind'],
          `expected one of ${SPEC_KINDS.map((k) => `\`${k}\``).join(', ')}, got ${shown(kind)}`,
        ),
      );
      continue;
    }
    const { errors: problems, shapeOk } = validateDocument(doc, kind as SpecKind);
    errors.push(...problems);
    out.push({ doc, kind: kind as SpecKind, shapeOk });
  }
  if (count === 0 && !errors.some((e) => e.file === source.file)) {
    errors.push(fileError(0, 'expected at least one OpenSLO document, found none', 0));
  }
  return count;
}

/**
 * Parses and validates OpenSLO v1 YAML (kinds `SLO`, `SLI`, `AlertPolicy`, `AlertCondition`, `Service`; several
 * documents per file, references resolved across all `sources`) and builds the {@link Slo}s. Never throws on bad
 * input: every problem of every file comes back in `errors`, each with file, line, column, path and what was
 * expected.
 *
 * @example
 * ```ts
 * import { parseSpecs, formatSpecError } from '@ballast/slo';
 * const { slos, errors } = parseSpecs([{ file: 'slos.yaml', text }]);
 * for (const e of errors) console.error(formatSpecError(e));
 * ```
 */
export function parseSpecs(sources: readonly SpecSource[]): SpecParseResult {
  const errors: SpecError[] = [];
  const parsed: Parsed[] = [];
  let documents = 0;
  for (const source of sources) {
    try {
      documents += readFile(source, errors, parsed);
    } catch (error) {
      // The YAML library and the validator are not expected to throw; if one does, the file is reported, not fatal.
      errors.push({
        file: source.file,
        line: 1,
        column: 1,
        document: 0,
        path: '',
        message: `could not read the file: ${error instanceof Error ? error.message : String(error)}`,
      });
    }
  }

  const registry = {
    SLI: new Map<string, SpecDocument>(),
    AlertPolicy: new Map<string, SpecDocument>(),
    AlertCondition: new Map<string, SpecDocument>(),
    broken: new Set<string>(),
  } satisfies SpecRegistry;
  const firstByName = new Map<string, SpecDocument>();
  for (const { doc, kind, shapeOk } of parsed) {
    const name = doc.get(['metadata', 'name']);
    if (typeof name !== 'string') continue;
    const key = `${kind}/${name}`;
    const first = firstByName.get(key);
    if (first) {
      errors.push(
        doc.error(
          ['metadata', 'name'],
          `expected a unique ${kind} name; \`${name}\` is already defined at ${formatSpecError(first.error([], '')).replace(/: $/, '')}`,
        ),
      );
      continue;
    }
    firstByName.set(key, doc);
    if (!shapeOk) registry.broken.add(key);
    else if (kind === 'SLI' || kind === 'AlertPolicy' || kind === 'AlertCondition')
      registry[kind].set(name, doc);
  }

  const slos: Slo[] = [];
  const seen = new Set<string>();
  for (const { doc, kind, shapeOk } of parsed) {
    if (kind !== 'SLO' || !shapeOk || firstByName.get(`SLO/${String(doc.get(['metadata', 'name']))}`) !== doc)
      continue;
    const built = buildSlo(doc, registry);
    for (const e of built.errors) {
      const key = formatSpecError(e);
      if (!seen.has(key)) {
        seen.add(key);
        errors.push(e);
      }
    }
    for (const slo of built.slos) {
      const clash = slos.find((s) => s.name === slo.name);
      if (clash) {
        // An objective's `<slo>-<key>` can meet another document's name.
        errors.push(
          doc.error(
            slo.objectiveOf ? ['spec', 'objectives', slo.objectiveOf.index] : ['metadata', 'name'],
            `expected unique SLO names; \`${slo.name}\` is also the SLO at ${clash.source ? `${clash.source.file}:${clash.source.line}:${clash.source.column}` : 'another document'}`,
          ),
        );
        continue;
      }
      slos.push(slo);
    }
  }
  errors.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
  return { slos: errors.length > 0 ? [] : slos, errors, documents };
}

/**
 * Parses one YAML text and returns its SLOs; throws a {@link SpecValidationError} listing every error.
 *
 * @example
 * ```ts
 * import { parseSlos } from '@ballast/slo';
 * const [slo] = parseSlos(text, 'slos.yaml');
 * ```
 */
export function parseSlos(text: string, file = '<inline>'): Slo[] {
  const result = parseSpecs([{ file, text }]);
  if (result.errors.length > 0) throw new SpecValidationError(result.errors);
  return [...result.slos];
}
