/**
 * JSON Schemas (draft-07, validated with Ajv) for the OpenSLO v1 documents Ballast reads. Each schema node may
 * carry `expected`: the phrase error messages use for what was expected there. `additionalProperties: false`
 * everywhere, so unknown fields are reported.
 */

const NAME = '^[a-zA-Z0-9]([a-zA-Z0-9_.-]{0,61}[a-zA-Z0-9])?$';
const NAME_EXPECTED =
  'a name of 1-63 letters, digits, `_`, `-` or `.` starting and ending with a letter or digit';
const FIXED_DURATION = '^([0-9]+(ms|[smhdw]))+$';
const FIXED_EXPECTED = 'a duration such as `5m`, `1h` or `3d`';

const name = { type: 'string', pattern: NAME, expected: NAME_EXPECTED } as const;
const text = { type: 'string', expected: 'a string' } as const;
const fixedDuration = { type: 'string', pattern: FIXED_DURATION, expected: FIXED_EXPECTED } as const;

const metadata = {
  type: 'object',
  expected: 'a mapping with `name` (and optional `displayName`, `labels`, `annotations`)',
  required: ['name'],
  additionalProperties: false,
  properties: {
    name,
    displayName: text,
    labels: {
      type: 'object',
      expected: 'a mapping of label names to strings (or lists of strings)',
      additionalProperties: {
        type: ['string', 'array'],
        expected: 'a string or a list of strings',
        items: text,
      },
    },
    annotations: {
      type: 'object',
      expected: 'a mapping of annotation names to strings',
      additionalProperties: text,
    },
  },
} as const;

const metricSource = {
  type: 'object',
  expected: 'a mapping with `metricSource`',
  required: ['metricSource'],
  additionalProperties: false,
  properties: {
    metricSource: {
      type: 'object',
      expected: 'a mapping with `type: Prometheus` and `spec.query`',
      required: ['type', 'spec'],
      additionalProperties: false,
      properties: {
        metricSourceRef: name,
        type: {
          enum: ['Prometheus', 'prometheus'],
          expected: '`Prometheus` (the only source Ballast reads)',
        },
        spec: {
          type: 'object',
          expected: 'a mapping with `query`',
          required: ['query'],
          additionalProperties: false,
          properties: {
            query: {
              type: 'string',
              minLength: 1,
              expected:
                'a counter selector such as `http_requests_total{code=~"5.."}` or a PromQL expression containing `{{.window}}`',
            },
          },
        },
      },
    },
  },
} as const;

const sliSpec = {
  type: 'object',
  expected: 'a mapping with `ratioMetric` or `thresholdMetric`',
  additionalProperties: false,
  properties: {
    description: text,
    thresholdMetric: metricSource,
    ratioMetric: {
      type: 'object',
      expected: 'a mapping with `counter: true`, `good` or `bad`, and `total`',
      required: ['counter', 'total'],
      additionalProperties: false,
      properties: {
        counter: { const: true, expected: '`true` (Ballast reads counters)' },
        good: metricSource,
        bad: metricSource,
        total: metricSource,
      },
    },
  },
} as const;

const alertConditionSpec = {
  type: 'object',
  expected: 'a mapping with `severity` and `condition`',
  required: ['severity', 'condition'],
  additionalProperties: false,
  properties: {
    description: text,
    severity: { enum: ['page', 'ticket'], expected: '`page` or `ticket`' },
    condition: {
      type: 'object',
      expected: 'a mapping with `kind: burnrate`, `threshold` and `lookbackWindow`',
      required: ['kind', 'threshold', 'lookbackWindow'],
      additionalProperties: false,
      properties: {
        kind: { const: 'burnrate', expected: '`burnrate`' },
        op: { enum: ['gt', 'gte'], expected: '`gt` or `gte` (burn rates are compared with `>`)' },
        threshold: { type: 'number', exclusiveMinimum: 0, expected: 'a burn rate > 0 such as `14.4`' },
        lookbackWindow: { ...fixedDuration, expected: 'the long window, a duration such as `1h`' },
        shortWindow: { ...fixedDuration, expected: 'the short window, a duration such as `5m`' },
        alertAfter: fixedDuration,
      },
    },
  },
} as const;

const alertPolicySpec = {
  type: 'object',
  expected: 'a mapping with `conditions`',
  required: ['conditions'],
  additionalProperties: false,
  properties: {
    description: text,
    alertWhenNoData: { type: 'boolean', expected: '`true` or `false`' },
    alertWhenResolved: { type: 'boolean', expected: '`true` or `false`' },
    alertWhenBreaching: { type: 'boolean', expected: '`true` or `false`' },
    conditions: {
      type: 'array',
      minItems: 1,
      expected: 'a non-empty list of conditions',
      items: {
        type: 'object',
        expected: 'a condition: `conditionRef: <name>` or `kind: AlertCondition` with `metadata` and `spec`',
        additionalProperties: false,
        properties: {
          conditionRef: name,
          kind: { const: 'AlertCondition', expected: '`AlertCondition`' },
          metadata,
          spec: alertConditionSpec,
        },
      },
    },
    notificationTargets: {
      type: 'array',
      expected: 'a list of notification targets',
      items: { type: 'object', expected: 'a mapping' },
    },
  },
} as const;

const sloSpec = {
  type: 'object',
  expected:
    'a mapping with `service`, `indicator` or `indicatorRef`, `timeWindow`, `budgetingMethod`, `objectives`',
  required: ['service', 'timeWindow', 'budgetingMethod', 'objectives'],
  additionalProperties: false,
  properties: {
    description: text,
    service: name,
    indicatorRef: name,
    indicator: {
      type: 'object',
      expected: 'an inline SLI: a mapping with `metadata` and `spec`',
      required: ['metadata', 'spec'],
      additionalProperties: false,
      properties: { metadata, spec: sliSpec },
    },
    timeWindow: {
      type: 'array',
      minItems: 1,
      maxItems: 1,
      expected: 'a list of exactly one time window',
      items: {
        type: 'object',
        expected: 'a mapping with `duration` and `isRolling` (and `calendar` when not rolling)',
        required: ['duration'],
        additionalProperties: false,
        properties: {
          duration: {
            type: 'string',
            pattern: '^[0-9]+[mhdwMQY]$',
            expected: 'a duration such as `28d` or `30d` (rolling) or `1w`, `1M`, `1Q`, `1Y` (calendar)',
          },
          isRolling: { type: 'boolean', expected: '`true` or `false`' },
          calendar: {
            type: 'object',
            expected: 'a mapping with `timeZone` (and optional `startTime`)',
            required: ['timeZone'],
            additionalProperties: false,
            properties: { startTime: text, timeZone: { type: 'string', expected: 'an IANA time zone' } },
          },
        },
      },
    },
    budgetingMethod: {
      enum: ['Occurrences', 'Timeslices'],
      expected: '`Occurrences` or `Timeslices`',
    },
    objectives: {
      type: 'array',
      minItems: 1,
      expected: 'a non-empty list of objectives (each gets its own error budget and alerts)',
      items: {
        type: 'object',
        expected: 'a mapping with `target` (or `targetPercent`)',
        additionalProperties: false,
        properties: {
          name: {
            type: 'string',
            pattern: '^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$',
            expected: 'a key of 1-32 lowercase letters, digits or `-` (the SLO is named `<slo>-<key>`)',
          },
          displayName: text,
          op: {
            enum: ['lte', 'lt', 'gte', 'gt'],
            expected: '`lte`, `lt`, `gte` or `gt`',
          },
          value: { type: 'number', exclusiveMinimum: 0, expected: 'a threshold > 0 such as `0.3`' },
          target: {
            type: 'number',
            exclusiveMinimum: 0,
            exclusiveMaximum: 1,
            expected: 'a ratio between 0 and 1 (exclusive) such as `0.999`',
          },
          targetPercent: {
            type: 'number',
            exclusiveMinimum: 0,
            exclusiveMaximum: 100,
            expected: 'a percentage between 0 and 100 (exclusive) such as `99.9`',
          },
          timeSliceTarget: {
            type: 'number',
            exclusiveMinimum: 0,
            maximum: 1,
            expected: 'a ratio in (0, 1] such as `0.95`',
          },
          timeSliceWindow: { ...fixedDuration, expected: 'a slice length such as `1m` or `5m`' },
        },
      },
    },
    alertPolicies: {
      type: 'array',
      expected: 'a list of alert policies',
      items: {
        type: 'object',
        expected:
          'an alert policy: `alertPolicyRef: <name>` or `kind: AlertPolicy` with `metadata` and `spec`',
        additionalProperties: false,
        properties: {
          alertPolicyRef: name,
          kind: { const: 'AlertPolicy', expected: '`AlertPolicy`' },
          metadata,
          spec: alertPolicySpec,
        },
      },
    },
  },
} as const;

function document(kind: string, spec: object): object {
  return {
    type: 'object',
    expected: 'a mapping with `apiVersion`, `kind`, `metadata` and `spec`',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    additionalProperties: false,
    properties: {
      apiVersion: { const: 'openslo/v1', expected: '`openslo/v1`' },
      kind: { const: kind, expected: `\`${kind}\`` },
      metadata,
      spec,
    },
  };
}

/**
 * The OpenSLO kinds Ballast reads.
 * @example
 * ```ts
 * SPEC_KINDS; // ['SLO', 'SLI', 'AlertPolicy', 'AlertCondition', 'AlertNotificationTarget', 'Service']
 * ```
 */
export const SPEC_KINDS = [
  'SLO',
  'SLI',
  'AlertPolicy',
  'AlertCondition',
  'AlertNotificationTarget',
  'Service',
] as const;

/**
 * One of {@link SPEC_KINDS}.
 * @example
 * ```ts
 * const kind: SpecKind = 'AlertPolicy';
 * ```
 */
export type SpecKind = (typeof SPEC_KINDS)[number];

/** The schema of each kind's document. */
export const SCHEMAS: Readonly<Record<SpecKind, object>> = {
  SLO: document('SLO', sloSpec),
  SLI: document('SLI', sliSpec),
  AlertPolicy: document('AlertPolicy', alertPolicySpec),
  AlertCondition: document('AlertCondition', alertConditionSpec),
  // Read and checked, not used: where alerts go is Alertmanager's routing (on the alerts' labels).
  AlertNotificationTarget: document('AlertNotificationTarget', {
    type: 'object',
    expected: 'a mapping with `target` (and optional `description`)',
    required: ['target'],
    additionalProperties: false,
    properties: { target: text, description: text },
  }),
  Service: document('Service', {
    type: 'object',
    expected: 'a mapping (with optional `description`)',
    additionalProperties: false,
    properties: { description: text },
  }),
};
