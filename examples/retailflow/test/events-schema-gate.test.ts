import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runSchemaGate } from '../scripts/check-event-schemas.js';
import {
  DEFAULT_SCHEMA_DIR,
  UPCASTERS,
  backwardBreaks,
  checkSchemaRegistry,
  readSchemaFiles,
  type EventSchemaFile,
  type Upcaster,
} from '../src/events/index.js';

const item = {
  type: 'object',
  required: ['productId', 'quantity'],
  properties: { productId: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } },
};
const v1 = {
  type: 'object',
  required: ['orderId', 'status', 'totalCents', 'items'],
  properties: {
    orderId: { type: 'string' },
    status: { enum: ['pending', 'confirmed', 'cancelled'] },
    totalCents: { type: 'integer', minimum: 0 },
    note: { type: ['string', 'null'] },
    items: { type: 'array', items: item },
  },
};
type Json = Record<string, unknown>;
const clone = (): Json => structuredClone(v1);
const props = (s: Json) => s.properties as Record<string, Json>;

describe('backwardBreaks (BACKWARD mode: the new schema reads what the old one wrote)', () => {
  it('passes compatible changes: a new optional field, a widened type, a widened enum, a relaxed bound', () => {
    const next = clone();
    props(next).coupon = { type: 'string' };
    props(next).totalCents = { type: 'number', minimum: 0 };
    props(next).status = { enum: ['pending', 'confirmed', 'cancelled', 'fulfilled'] };
    next.required = ['orderId', 'status', 'items']; // a required field that stays declared may become optional
    props(next).newRequiredWithDefault = { type: 'string', default: 'web' };
    (next.required as string[]).push('newRequiredWithDefault');
    expect(backwardBreaks(v1, next)).toEqual([]);
  });

  it.each([
    [
      'a changed type',
      (s: Json) => (props(s).totalCents = { type: 'string' }),
      'totalCents',
      'changed-type',
      'type changed from integer to string',
    ],
    [
      'a nullable field made non-null',
      (s: Json) => (props(s).note = { type: 'string' }),
      'note',
      'changed-type',
      'type changed from string | null to string',
    ],
    [
      'a narrowed enum',
      (s: Json) => (props(s).status = { enum: ['pending', 'confirmed'] }),
      'status',
      'narrowed-enum',
      'enum narrowed: "cancelled" no longer allowed',
    ],
    [
      'a new required field without default',
      (s: Json) => {
        props(s).channel = { type: 'string' };
        (s.required as string[]).push('channel');
      },
      'channel',
      'new-required-field',
      'new required field without a default',
    ],
    [
      'a removed required field',
      (s: Json) => {
        delete props(s).totalCents;
        s.required = ['orderId', 'status', 'items'];
      },
      'totalCents',
      'removed-required-field',
      'required field removed',
    ],
    [
      'a closed content model',
      (s: Json) => (s.additionalProperties = false),
      '(payload)',
      'closed-content',
      '`additionalProperties: false` added',
    ],
    [
      'a tightened bound in a nested array item',
      (s: Json) => {
        ((props(s).items!.items as Json).properties as Record<string, Json>).quantity = {
          type: 'integer',
          minimum: 2,
        };
      },
      'items[].quantity',
      'tightened-constraint',
      '`minimum` tightened from 1 to 2',
    ],
    [
      'a new pattern',
      (s: Json) => (props(s).orderId = { type: 'string', pattern: '^ord_' }),
      'orderId',
      'tightened-constraint',
      '`pattern` added: "^ord_"',
    ],
    [
      'extra fields constrained by a schema',
      (s: Json) => (s.additionalProperties = { type: 'string' }),
      '(payload)',
      'unsupported-change',
      '`additionalProperties` changed to a schema',
    ],
    [
      'a keyword the gate cannot reason about',
      (s: Json) => (props(s).orderId = { oneOf: [{ type: 'string' }, { type: 'integer' }] }),
      'orderId',
      'unsupported-change',
      '`oneOf` changed',
    ],
  ])('fails %s, naming the field and the rule', (_name, change, path, rule, message) => {
    const next = clone();
    change(next);
    const breaks = backwardBreaks(v1, next);
    expect(breaks).toContainEqual(expect.objectContaining({ path, rule }));
    expect(breaks.find((b) => b.path === path)?.message).toContain(message);
  });
});

const file = (type: string, version: number, schema: Json): EventSchemaFile => ({
  type,
  version,
  path: `${type}/v${version}.schema.json`,
  schema,
});

describe('checkSchemaRegistry', () => {
  const breaking = clone();
  props(breaking).channel = { type: 'string' };
  (breaking.required as string[]).push('channel');
  const lift: Upcaster = { type: 'order.x', from: 1, up: (p) => ({ ...p, channel: 'web' }) };

  it('fails a new version that cannot read the previous one when no upcaster lifts it', () => {
    const problems = checkSchemaRegistry({
      files: [file('order.x', 1, v1), file('order.x', 2, breaking)],
      upcasters: [],
    });
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toContain('order.x v2 cannot read events written as v1 (BACKWARD)');
    expect(problems[0]!.message).toContain('channel: new required field without a default');
  });

  it('passes the same version with an upcaster, and a compatible version without one', () => {
    const compatible = clone();
    props(compatible).coupon = { type: 'string' };
    expect(
      checkSchemaRegistry({
        files: [file('order.x', 1, v1), file('order.x', 2, breaking), file('order.x', 3, breaking)],
        upcasters: [lift],
      }),
    ).toEqual([]);
    expect(
      checkSchemaRegistry({ files: [file('order.x', 1, v1), file('order.x', 2, compatible)], upcasters: [] }),
    ).toEqual([]);
  });

  it('fails gaps, upcasters without schemas, and published versions edited in place or deleted', () => {
    const edited = clone();
    props(edited).totalCents = { type: 'string' };
    const problems = checkSchemaRegistry({
      files: [file('order.x', 1, edited), file('order.x', 3, v1)],
      upcasters: [{ ...lift, type: 'order.y' }],
      published: new Map([
        ['order.x@1', { schema: v1, label: 'commit abc' }],
        ['order.z@1', { schema: v1, label: 'commit def' }],
      ]),
    }).map((p) => p.message);
    expect(problems).toEqual([
      expect.stringContaining('order.x: versions must run 1, 2, 3… without gaps; found v1, v3'),
      expect.stringContaining('upcaster order.y v1 → v2 has no schema files'),
      expect.stringMatching(
        /order\.x v1 was changed in place since it was published \(commit abc\)[\s\S]*totalCents: type changed from integer to string/,
      ),
      expect.stringContaining('order.z v1 was published (commit def) and its schema file is gone'),
    ]);
  });
});

describe("RetailFlow's event registry", () => {
  it('passes the gate: every version reads the previous one or has an upcaster, nothing published changed', () => {
    const { problems, versions } = runSchemaGate(DEFAULT_SCHEMA_DIR, UPCASTERS);
    expect(problems.map((p) => p.message)).toEqual([]);
    expect(versions).toBeGreaterThanOrEqual(5);
  });

  it('would fail without the order.payment_failed upcaster, naming the field v2 added', () => {
    const { problems } = runSchemaGate(
      DEFAULT_SCHEMA_DIR,
      UPCASTERS.filter((u) => u.type !== 'order.payment_failed'),
    );
    expect(problems.map((p) => p.message)).toEqual([
      expect.stringContaining('order.payment_failed v2 cannot read events written as v1'),
    ]);
    expect(problems[0]!.message).toContain('failure: new required field without a default');
  });

  it('covers every event type the orders write', () => {
    const types = new Set(readSchemaFiles(DEFAULT_SCHEMA_DIR).map((f) => f.type));
    expect([...types].sort()).toEqual([
      'order.cancelled',
      'order.confirmed',
      'order.created',
      'order.payment_failed',
    ]);
  });
});

describe('the gate against git history', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('fails a committed version edited in place, with the commit it was published in', () => {
    dir = mkdtempSync(join(tmpdir(), 'ballast-schemas-'));
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.name=Ballast', '-c', 'user.email=ballast@localhost', ...args], {
        cwd: dir,
        stdio: 'pipe',
      });
    git('init', '-q');
    mkdirSync(join(dir, 'order.x'));
    writeFileSync(join(dir, 'order.x', 'v1.schema.json'), JSON.stringify(v1));
    git('add', '.');
    git('commit', '-qm', 'order.x v1');
    expect(runSchemaGate(dir, []).problems).toEqual([]);

    const edited = clone();
    (edited.required as string[]).push('note');
    writeFileSync(join(dir, 'order.x', 'v1.schema.json'), JSON.stringify(edited));
    git('commit', '-qam', 'edit v1 in place');
    const { problems } = runSchemaGate(dir, []);
    expect(problems).toHaveLength(1);
    expect(problems[0]!.message).toMatch(
      /^order\.x v1 was changed in place since it was published \(commit [0-9a-f]{12}\)/,
    );
    expect(problems[0]!.message).toContain('note: new required field without a default');
  });
});
