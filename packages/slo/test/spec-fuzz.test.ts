import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMap, isSeq, parseAllDocuments, visit } from 'yaml';
import { parseSpecs } from '../src/openslo/parse.js';
import { seededRandom as random } from '@ballast/testkit';

const valid = join(import.meta.dirname, 'fixtures', 'valid');
const sources = ['slos.yaml', 'sli.yaml'].map((file) => ({
  file,
  text: readFileSync(join(valid, file), 'utf8'),
}));
const TOKENS = [
  ': ',
  '- ',
  '{',
  '}',
  '[',
  ']',
  '"',
  "'",
  '&a',
  '*a',
  '---',
  '\t',
  '~',
  'null',
  '0',
  '-1',
  'true',
  '1M',
  '{{.window}}',
];

/** One random edit of a spec text: drop, duplicate or swap lines, or insert a YAML token. */
function mutate(text: string, rnd: () => number): string {
  const lines = text.split('\n');
  const i = Math.floor(rnd() * lines.length);
  const j = Math.floor(rnd() * lines.length);
  switch (Math.floor(rnd() * 4)) {
    case 0:
      lines.splice(i, 1);
      break;
    case 1:
      lines.splice(i, 0, lines[j]!);
      break;
    case 2:
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      break;
    default: {
      const line = lines[i]!;
      const at = Math.floor(rnd() * (line.length + 1));
      lines[i] = line.slice(0, at) + TOKENS[Math.floor(rnd() * TOKENS.length)]! + line.slice(at);
    }
  }
  return lines.join('\n');
}

const VALUES: unknown[] = [
  null,
  0,
  -1,
  1.5,
  0.999,
  Number.MAX_VALUE * 10,
  '',
  'x',
  '1M',
  '30d',
  '5m',
  'Europe/Nowhere',
  true,
  [],
  {},
  ['a'],
  { a: 1 },
  'sum(rate(x[5m]))',
  'up{{.window}}',
  'AlertPolicy',
];

/** Replaces one scalar, drops one mapping entry or list item, in documents that stay well-formed YAML. */
function mutateValue(text: string, rnd: () => number): string {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return text;
  const doc = docs[Math.floor(rnd() * docs.length)]!;
  if (rnd() < 0.7) {
    let count = 0;
    visit(doc, {
      Scalar() {
        count++;
      },
    });
    const target = Math.floor(rnd() * count);
    const value = VALUES[Math.floor(rnd() * VALUES.length)];
    let seen = 0;
    visit(doc, {
      Scalar() {
        return seen++ === target ? doc.createNode(value) : undefined;
      },
    });
  } else {
    let dropped = false;
    visit(doc, {
      Collection(_key, node) {
        if (dropped || rnd() > 0.1) return undefined;
        if ((isMap(node) || isSeq(node)) && node.items.length > 0) {
          node.items.splice(Math.floor(rnd() * node.items.length), 1);
          dropped = true;
          return visit.BREAK;
        }
        return undefined;
      },
    });
  }
  return docs.map((d) => d.toString()).join('');
}

describe('mutated specs', () => {
  it.each(Array.from({ length: 20 }, (_, i) => i + 1))(
    'with wrong values never throw and locate their errors (seed %i)',
    (seed) => {
      const rnd = random(seed * 7919);
      for (let round = 0; round < 15; round++) {
        const mutated = sources.map((s) => {
          let text = s.text;
          const edits = 1 + Math.floor(rnd() * 3);
          for (let e = 0; e < edits; e++) text = mutateValue(text, rnd);
          return { file: s.file, text };
        });
        const result = parseSpecs(mutated);
        for (const e of result.errors) {
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.column).toBeGreaterThanOrEqual(1);
          expect(e.message).not.toMatch(/\bundefined\b|\[object Object\]|\bNaN\b/);
        }
        if (result.errors.length === 0) expect(result.slos.length).toBe(3);
      }
    },
  );

  it.each(Array.from({ length: 20 }, (_, i) => i + 1))(
    'never throw and always locate their errors (seed %i)',
    (seed) => {
      const rnd = random(seed);
      for (let round = 0; round < 15; round++) {
        const mutated = sources.map((s) => {
          let text = s.text;
          const edits = 1 + Math.floor(rnd() * 3);
          for (let e = 0; e < edits; e++) text = mutate(text, rnd);
          return { file: s.file, text };
        });
        const result = parseSpecs(mutated);
        for (const e of result.errors) {
          const lines = mutated.find((s) => s.file === e.file)!.text.split('\n').length;
          expect(e.line).toBeGreaterThanOrEqual(1);
          expect(e.line).toBeLessThanOrEqual(lines + 1);
          expect(e.column).toBeGreaterThanOrEqual(1);
          expect(e.message).not.toMatch(/undefined|\[object Object\]|NaN/);
        }
        if (result.errors.length === 0) expect(result.slos.length).toBeGreaterThan(0);
      }
    },
  );
});
