import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatSpecError } from '../src/openslo/errors.js';
import { parseSpecs } from '../src/openslo/parse.js';

const dir = join(import.meta.dirname, 'fixtures', 'invalid');

/** file → the first error: line, column, path and (part of) the message. */
const CORPUS: Record<string, [line: number, column: number, path: string, message: string]> = {
  'alert-condition-kind': [
    41,
    23,
    'spec.alertPolicies[0].spec.conditions[0].spec.condition.kind',
    'expected `burnrate`, got `"threshold"` (string)',
  ],
  'alert-duplicate-condition': [
    50,
    13,
    'spec.alertPolicies[1].spec.conditions[0]',
    '`fast-burn` is already used at alert-duplicate-condition.yaml:35:13',
  ],
  'alert-policy-incomplete': [
    30,
    7,
    'spec.alertPolicies[0]',
    'missing `spec`; expected `alertPolicyRef: <name>` or an inline AlertPolicy',
  ],
  'alert-policy-unknown-ref': [
    30,
    23,
    'spec.alertPolicies[0].alertPolicyRef',
    'unknown AlertPolicy `checkout-paging`',
  ],
  'alert-severity': [
    39,
    25,
    'spec.alertPolicies[0].spec.conditions[0].spec.severity',
    'expected `page` or `ticket`, got `"critical"`',
  ],
  'alert-short-window-too-long': [
    44,
    30,
    'spec.alertPolicies[0].spec.conditions[0].spec.condition.shortWindow',
    'expected a short window shorter than `lookbackWindow` (1h)',
  ],
  'alert-threshold-negative': [
    42,
    28,
    'spec.alertPolicies[0].spec.conditions[0].spec.condition.threshold',
    'expected a burn rate > 0 such as `14.4`, got `-1` (number)',
  ],
  'bad-duration': [
    24,
    17,
    'spec.timeWindow[0].duration',
    'expected a duration such as `28d` or `30d` (rolling)',
  ],
  'bad-name': [4, 9, 'metadata.name', 'expected a name of 1-63 letters'],
  'bad-time-zone': [
    27,
    19,
    'spec.timeWindow[0].calendar.timeZone',
    'expected an IANA time zone such as `Europe/Berlin`, got `"Europe/Atlantis"`',
  ],
  'budgeting-typo': [
    26,
    20,
    'spec.budgetingMethod',
    'expected `Occurrences` or `Timeslices`, got `"Occurences"`',
  ],
  'calendar-missing': [24, 7, 'spec.timeWindow[0]', 'missing required field `calendar`'],
  'calendar-two-months': [
    24,
    17,
    'spec.timeWindow[0].duration',
    'expected `1d`, `1w`, `1M`, `1Q` or `1Y` for a calendar window, got `"2M"`',
  ],
  'counter-false': [
    12,
    18,
    'spec.indicator.spec.ratioMetric.counter',
    'expected `true` (Ballast reads counters), got `false` (boolean)',
  ],
  'duplicate-key': [3, 1, '', 'invalid YAML: Map keys must be unique'],
  'duplicate-slo-name': [
    33,
    9,
    'metadata.name',
    'expected a unique SLO name; `checkout-availability` is already defined at duplicate-slo-name.yaml:1:1',
  ],
  empty: [1, 1, '', 'expected at least one OpenSLO document, found none'],
  'indicator-and-ref': [7, 3, 'spec.indicatorRef', 'expected either `indicator` or `indicatorRef`, not both'],
  'label-name': [6, 5, 'metadata.labels.team-name', 'expected a Prometheus label name'],
  'latency-expression': [
    15,
    20,
    'spec.indicator.spec.thresholdMetric.metricSource.spec.query',
    'expected a histogram selector',
  ],
  'latency-missing-value': [21, 7, 'spec.objectives[0]', 'missing required field `value`'],
  'latency-wrong-op': [22, 11, 'spec.objectives[0].op', 'expected `lte` or `lt`'],
  'min-events-annotation': [
    6,
    5,
    'metadata.annotations.ballast.dev/min-events',
    'expected a whole number of events',
  ],
  'missing-kind': [1, 1, '', 'missing required field `kind`'],
  'missing-service': [6, 3, 'spec', 'missing required field `service`'],
  'missing-target': [28, 7, 'spec.objectives[0]', 'missing required field `target`'],
  'no-indicator': [6, 3, 'spec', 'missing `indicator` or `indicatorRef`'],
  'not-a-mapping': [1, 1, '', 'expected a mapping with `apiVersion`, `kind`, `metadata` and `spec`, got'],
  'op-on-ratio': [29, 11, 'spec.objectives[0].op', '`op: lte` applies to `thresholdMetric` SLIs only'],
  'query-missing': [
    22,
    15,
    'spec.indicator.spec.ratioMetric.total.metricSource.spec',
    'missing required field `query`',
  ],
  'query-without-window': [
    22,
    22,
    'spec.indicator.spec.ratioMetric.total.metricSource.spec.query',
    'or a PromQL expression containing `{{.window}}`, got',
  ],
  'ratio-good-and-bad': [
    13,
    9,
    'spec.indicator.spec.ratioMetric.bad',
    'expected either `good` or `bad`, not both',
  ],
  'ratio-no-numerator': [12, 9, 'spec.indicator.spec.ratioMetric', 'missing `good` or `bad`'],
  'rolling-month': [
    24,
    17,
    'spec.timeWindow[0].duration',
    'expected a fixed duration such as `28d` for a rolling window',
  ],
  'source-not-prometheus': [
    20,
    19,
    'spec.indicator.spec.ratioMetric.total.metricSource.type',
    'unsupported indicator source `Datadog`: Ballast reads Prometheus only',
  ],
  'source-cloudwatch': [
    13,
    17,
    'spec.indicator.spec.thresholdMetric.metricSource.type',
    'unsupported indicator source `CloudWatch`: Ballast reads Prometheus only (`type: Prometheus` with a PromQL `spec.query`)',
  ],
  'source-ref-only': [
    20,
    13,
    'spec.indicator.spec.ratioMetric.total.metricSource.metricSourceRef',
    'a `metricSourceRef` without `type` is not supported (Ballast reads no DataSource documents)',
  ],
  'ratio-raw': [
    14,
    9,
    'spec.indicator.spec.ratioMetric.raw',
    'a `raw` ratio metric (a precomputed ratio) is not supported',
  ],
  'datasource-kind': [3, 7, 'kind', '`DataSource` documents are not supported'],
  'alert-when-breaching-false': [
    34,
    9,
    'spec.alertPolicies[0].spec.alertWhenBreaching',
    '`alertWhenBreaching: false` is not supported',
  ],
  'alert-condition-op-lte': [
    42,
    21,
    'spec.alertPolicies[0].spec.conditions[0].spec.condition.op',
    'expected `gt` or `gte` (burn rates are compared with `>`), got `"lte"`',
  ],
  'target-and-percent': [
    29,
    7,
    'spec.objectives[0].targetPercent',
    'expected either `target` or `targetPercent`, not both',
  ],
  'target-as-string': [
    28,
    15,
    'spec.objectives[0].target',
    'expected a ratio between 0 and 1 (exclusive) such as `0.999`, got `"0.999"` (string)',
  ],
  'target-percent-range': [
    28,
    22,
    'spec.objectives[0].targetPercent',
    'expected a percentage between 0 and 100 (exclusive)',
  ],
  'target-too-high': [28, 15, 'spec.objectives[0].target', 'got `1.5` (number)'],
  'timeslice-target-zero': [29, 24, 'spec.objectives[0].timeSliceTarget', 'expected a ratio in (0, 1]'],
  'timeslice-with-occurrences': [
    29,
    7,
    'spec.objectives[0].timeSliceWindow',
    'applies to `budgetingMethod: Timeslices` only',
  ],
  'timeslices-missing-window': [28, 7, 'spec.objectives[0]', 'missing required field `timeSliceWindow`'],
  'objectives-same-key': [
    30,
    7,
    'spec.objectives[1].displayName',
    '`internal` (from `displayName`) is also the key of objectives[0]: give one a `name`',
  ],
  'two-time-windows': [24, 5, 'spec.timeWindow', 'expected a list of exactly one time window, got 2 item(s)'],
  'unknown-field-metadata': [
    5,
    3,
    'metadata.owner',
    'unknown field `owner`; expected one of `name`, `displayName`, `labels`, `annotations`',
  ],
  'unknown-field-spec': [27, 3, 'spec.errorBudget', 'unknown field `errorBudget`'],
  'unknown-kind': [
    2,
    7,
    'kind',
    'expected one of `SLO`, `SLI`, `AlertPolicy`, `AlertCondition`, `AlertNotificationTarget`, `Service`, got `"Dashboard"`',
  ],
  'unknown-sli-ref': [7, 17, 'spec.indicatorRef', 'unknown SLI `checkout-requests`'],
  'wrong-api-version': [1, 13, 'apiVersion', 'expected `openslo/v1`, got `"openslo/v2alpha"`'],
  'yaml-syntax': [7, 3, '', 'invalid YAML: Flow sequence in block collection must be sufficiently indented'],
};

describe('the malformed-spec corpus', () => {
  it('has an expectation for every file and a file for every expectation', () => {
    const files = readdirSync(dir)
      .map((f) => f.replace(/\.yaml$/, ''))
      .sort();
    expect(files).toEqual(Object.keys(CORPUS).sort());
    expect(files.length).toBeGreaterThanOrEqual(30);
  });

  it.each(Object.entries(CORPUS))('%s.yaml gives a located error', (name, [line, column, path, message]) => {
    const file = `${name}.yaml`;
    const result = parseSpecs([{ file, text: readFileSync(join(dir, file), 'utf8') }]);
    expect(result.slos).toEqual([]);
    const first = result.errors[0]!;
    expect({ file: first.file, line: first.line, column: first.column, path: first.path }).toEqual({
      file,
      line,
      column,
      path,
    });
    expect(first.message).toContain(message);
    expect(formatSpecError(first)).toBe(
      `${file}:${line}:${column}: ${path === '' ? '' : `${path}: `}${first.message}`,
    );
  });
});

describe('what Ballast does not read', () => {
  it.each(['source-cloudwatch', 'source-ref-only', 'ratio-raw'])(
    '%s.yaml gives one error, not the schema errors of the unsupported part',
    (name) => {
      const file = `${name}.yaml`;
      const { errors } = parseSpecs([{ file, text: readFileSync(join(dir, file), 'utf8') }]);
      expect(errors.map(formatSpecError)).toHaveLength(1);
    },
  );

  it('accepts AlertNotificationTarget documents (routing stays with Alertmanager)', () => {
    const text = readFileSync(join(dir, 'alert-severity.yaml'), 'utf8').replace(
      'severity: critical',
      'severity: page',
    );
    const target = `---
apiVersion: openslo/v1
kind: AlertNotificationTarget
metadata:
  name: OnCallDevopsMailNotification
spec:
  description: Notifies by a mail message to the on-call devops mailing group
  target: email
`;
    const { slos, errors } = parseSpecs([{ file: 'targets.yaml', text: text + target }]);
    expect(errors).toEqual([]);
    expect(slos.map((s) => s.name)).toEqual(['checkout-availability']);
  });
});

describe('reporting', () => {
  it('reports every error of a file at once, in file order', () => {
    const text = readFileSync(join(dir, 'unknown-field-metadata.yaml'), 'utf8')
      .replace('    - target: 0.999', '    - target: 7')
      .replace('  budgetingMethod: Occurrences', '  budgetingMethod: Sometimes');
    const { errors } = parseSpecs([{ file: 'many.yaml', text }]);
    expect(errors.map((e) => `${e.line}:${e.path}`)).toEqual([
      '5:metadata.owner',
      '27:spec.budgetingMethod',
      '29:spec.objectives[0].target',
    ]);
  });

  it('still checks references and cross-field rules of a document whose only schema errors are unknown fields', () => {
    const text = readFileSync(join(dir, 'unknown-sli-ref.yaml'), 'utf8')
      .replace('  service: checkout', '  service: checkout\n  owner: payments')
      .replace(
        '      isRolling: true',
        '      isRolling: false\n      calendar:\n        timeZone: Europe/Atlantis',
      )
      .replace('    - duration: 30d', '    - duration: 1M');
    const { errors } = parseSpecs([{ file: 'mixed.yaml', text }]);
    expect(errors.map((e) => `${e.line}:${e.column} ${e.path}`)).toEqual([
      '7:3 spec.owner',
      '8:17 spec.indicatorRef',
      '13:19 spec.timeWindow[0].calendar.timeZone',
    ]);
  });

  it('reports errors of several files together and names each file', () => {
    const read = (n: string) => ({ file: n, text: readFileSync(join(dir, n), 'utf8') });
    const { errors } = parseSpecs([read('bad-name.yaml'), read('target-too-high.yaml')]);
    expect(errors.map((e) => e.file)).toEqual(['bad-name.yaml', 'target-too-high.yaml']);
  });

  it.each([
    ['a binary blob', '\u0000\u0001\u0002'],
    ['a tab-indented file', 'apiVersion: openslo/v1\nkind: SLO\nmetadata:\n\tname: x\n'],
    [
      'an alias bomb',
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c]\n',
    ],
    ['a document that is a number', '42'],
    ['kind as a list', 'kind: [SLO]\n'],
    ['deeply nested junk', `${'['.repeat(500)}${']'.repeat(500)}`],
    ['spec as a string', 'apiVersion: openslo/v1\nkind: SLO\nmetadata: { name: x }\nspec: hello\n'],
  ])('never throws on %s', (_name, text) => {
    const result = parseSpecs([{ file: 'junk.yaml', text }]);
    expect(result.errors.length).toBeGreaterThan(0);
    for (const e of result.errors) {
      expect(e.file).toBe('junk.yaml');
      expect(e.line).toBeGreaterThanOrEqual(1);
      expect(e.column).toBeGreaterThanOrEqual(1);
      expect(e.message.length).toBeGreaterThan(0);
    }
  });
});
