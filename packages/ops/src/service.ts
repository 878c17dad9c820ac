import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isMap, isSeq, parseDocument, type Node } from 'yaml';
import type { AlertSpec, DiagnosisQuery, PanelRef } from './alerts/alert.js';
import type { MetricSpec, MetricType } from './catalog.js';
import type { DashboardSpec, RowSpec } from './grafana/spec.js';

/**
 * The service file: what `ballast-ops generate` knows about a service besides its SLOs (its name and Prometheus
 * job, the shell commands on-call runs against it, the levers that mitigate, extra alerts of its own). Every field
 * but `name` is optional; without a service file at all, {@link defaultService} describes the service from its SLOs.
 */

/** What a runbook adds for one alert or one SLO: where to look and which levers to pull. */
export interface RunbookHints {
  /** A sentence appended to the generic impact (what this service's users feel). */
  readonly impact?: string;
  readonly queries?: readonly DiagnosisQuery[];
  readonly panels?: readonly PanelRef[];
  /** Shell commands for the diagnosis, after the service's own `shell.commands`. */
  readonly commands?: readonly string[];
  /** Diagnosis steps in prose, after the generic ones. */
  readonly steps?: readonly string[];
  /** Names of {@link ServiceSpec.levers} to pull first, in order. */
  readonly levers?: readonly string[];
  /** Mitigation steps, before the generic ones. */
  readonly mitigation?: readonly string[];
  /** Shell commands for the mitigation, after the levers' commands. */
  readonly mitigationCommands?: readonly string[];
  /**
   * The histogram bucket selector whose exemplars lead from this alert to the traces of failing requests
   * (`http_server_request_duration_seconds_bucket{http_route="/api/v1/orders",http_response_status_code=~"5.."}`):
   * the runbook then walks alert → dashboard → exemplar trace → log lines. SLO runbooks derive one from the SLO's
   * indicator; other alerts get the walk only when this is set.
   */
  readonly exemplars?: string;
}

/**
 * Where the service's logs and traces are read, for the runbooks' step from an exemplar's `trace_id` to the
 * request's log lines (JSON lines, each carrying `trace_id`, as `@ballast/telemetry`'s `traceLogMixin` writes).
 *
 * @example
 * ```ts
 * const logs: LogsSpec = { command: 'journalctl -u shop --since=-1h -o cat', loki: '{service_name="shop"}' };
 * ```
 */
export interface LogsSpec {
  /**
   * A shell command that prints the service's JSON log lines (the runbook pipes it to `jq`).
   * @default 'kubectl logs -l app.kubernetes.io/name=<name> --since=1h --prefix=false'
   */
  readonly command?: string;
  /** A LogQL stream selector for the same lines in Loki. @default '{app="<name>"}' */
  readonly loki?: string;
  /**
   * A URL of one trace in the tracing UI, with `<trace_id>` where the id goes
   * (`https://tempo.example/explore?traceId=<trace_id>`). @default none (the runbook says "your tracing backend")
   */
  readonly traceUrl?: string;
}

/** A lever on-call can pull: one mitigation step in prose and the commands that pull it. */
export interface Lever {
  readonly step: string;
  readonly commands?: readonly string[];
}

/** The service file, as read (defaults not applied). */
export interface ServiceSpec {
  /** The service's name (lowercase, digits, `-`). */
  readonly name: string;
  /** @default name */
  readonly displayName?: string;
  /** The Prometheus `job` label of its scrape. @default name */
  readonly job?: string;
  /** `host:port` Prometheus scrapes at `/metrics` (the local `prometheus.yml`, promtool test labels). @default '127.0.0.1:8080' */
  readonly target?: string;
  /**
   * A file holding the bearer token the scrape sends (`authorization.credentials_file` in `prometheus.yml`), for a
   * service whose `/metrics` asks for one. @default none (no authorization header)
   */
  readonly scrapeTokenFile?: string;
  /** Prefix of every `runbook_url`: `<runbookBaseUrl>/runbooks/<AlertName>.md`. @default '' (a relative link) */
  readonly runbookBaseUrl?: string;
  /** How runbooks address the service from a shell. */
  readonly shell?: {
    /** The first line of every shell block (sets the variables the commands use). */
    readonly env?: string;
    /** How commands name the base URL. @default '$SERVICE_URL' */
    readonly url?: string;
    /**
     * The command that prints `/metrics` (generated diagnoses pipe it to `grep`), for a service whose metrics live
     * on another listener or ask for a token.
     * @default 'curl -s "<url>/metrics"'
     * @example 'curl -s -H "Authorization: Bearer $OPS_TOKEN" "$OPS_URL/metrics"'
     */
    readonly metrics?: string;
    /** What the diagnosis calls the commands. @default '<displayName> endpoints' */
    readonly label?: string;
    /** Commands every runbook's diagnosis starts with (readiness, feature switches in force). */
    readonly commands?: readonly string[];
    /** Commands every SLO runbook's diagnosis starts with. */
    readonly sloCommands?: readonly string[];
  };
  readonly levers?: Readonly<Record<string, Lever>>;
  /** Levers the incident-response page lists, with their commands. @default every lever */
  readonly incidentLevers?: readonly string[];
  /** Who to escalate to, for the handoff checklist. @default 'the owners of the service's dependencies' */
  readonly escalation?: string;
  /** Where its logs and traces are read (the runbooks' exemplar → trace → logs step). */
  readonly logs?: LogsSpec;
  /** Hints for the generated alerts, by alert name. */
  readonly alerts?: Readonly<Record<string, RunbookHints>>;
  /** Hints for the SLO alerts, by SLO name. */
  readonly slos?: Readonly<Record<string, RunbookHints>>;
  /** The service's own alerts, each with its rule, promtool cases and runbook. */
  readonly customAlerts?: readonly AlertSpec[];
  /**
   * Metrics the service exports besides the telemetry catalog: a name (custom alerts may query it), or a
   * {@link ServiceMetric} for a metric its dashboard rows plot (the dashboard linter reads its type and unit).
   */
  readonly metrics?: readonly (string | ServiceMetric)[];
  /**
   * Rows the service adds at the end of the generated dashboards, by dashboard uid (`ballast-use`, `ballast-red`,
   * ...): panels over its own metrics, held to the same rules as the generated ones (`$job`/`$instance` matchers,
   * counters under `rate(...[$__rate_interval])`, metrics from the catalog or {@link ServiceSpec.metrics}).
   */
  readonly dashboardRows?: Readonly<Record<string, readonly RowSpec[]>>;
  /**
   * The service's own dashboards (usage, cost, business figures), in the shape of the generated ones: written to
   * `dashboards/<uid>.json` and linted like them. Their metrics must be in the telemetry catalog or in `metrics`
   * (a name ending in `_total` is read as a counter, `_bucket`/`_count`/`_sum` as a histogram's series, any other
   * as a gauge); every selector matches on `job=~"$job"` and `instance=~"$instance"`. @default []
   */
  readonly dashboards?: readonly DashboardSpec[];
  /** Kubernetes resources. */
  readonly kubernetes?: {
    /** @default none (the namespace of `kubectl apply`) */
    readonly namespace?: string;
    /** Labels on every resource (e.g. what the Prometheus operator's `ruleSelector` matches). */
    readonly labels?: Readonly<Record<string, string>>;
    /** The Prometheus address Argo Rollouts analysis queries. @default 'http://prometheus.monitoring:9090' */
    readonly prometheusAddress?: string;
    /**
     * The series label holding a pod's Argo Rollouts template hash (relabelled from the pod label
     * `rollouts-pod-template-hash`): how analysis tells the canary's series from the stable version's.
     * @default 'rollouts_pod_template_hash'
     */
    readonly podTemplateHashLabel?: string;
  };
  /** Where rules and Kubernetes resources go, relative to `--out`. */
  readonly output?: { readonly prometheus?: string; readonly kubernetes?: string };
}

/**
 * A metric of the service's own, described for the dashboard linter.
 *
 * @example
 * ```ts
 * const depth: ServiceMetric = { name: 'shop_outbox_depth', type: 'gauge', unit: 'events', help: 'Events waiting.' };
 * ```
 */
export interface ServiceMetric {
  /** As exposed (counters end in `_total`; a histogram by its base name). */
  readonly name: string;
  readonly type: MetricType;
  readonly unit: string;
  readonly help: string;
}

/** A service file with defaults applied. */
export interface ResolvedService {
  readonly name: string;
  readonly displayName: string;
  readonly job: string;
  readonly target: string;
  readonly scrapeTokenFile: string | undefined;
  readonly runbookBaseUrl: string;
  readonly shell: {
    readonly env: string;
    readonly url: string;
    readonly metrics: string;
    readonly label: string;
    readonly commands: readonly string[];
    readonly sloCommands: readonly string[];
  };
  readonly levers: Readonly<Record<string, Lever>>;
  readonly incidentLevers: readonly string[];
  readonly escalation: string;
  readonly logs: { readonly command: string; readonly loki: string; readonly traceUrl: string | undefined };
  readonly alerts: Readonly<Record<string, RunbookHints>>;
  readonly slos: Readonly<Record<string, RunbookHints>>;
  readonly customAlerts: readonly AlertSpec[];
  /** Names of {@link ServiceSpec.metrics}. */
  readonly metrics: readonly string[];
  /** The described {@link ServiceSpec.metrics}, as catalog entries. */
  readonly metricSpecs: readonly MetricSpec[];
  /** {@link ServiceSpec.dashboardRows}. @default {} */
  readonly dashboardRows: Readonly<Record<string, readonly RowSpec[]>>;
  readonly dashboards: readonly DashboardSpec[];
  readonly kubernetes: {
    readonly namespace: string | undefined;
    readonly labels: Readonly<Record<string, string>>;
    readonly prometheusAddress: string;
    readonly podTemplateHashLabel: string;
  };
  readonly output: { readonly prometheus: string; readonly kubernetes: string };
}

/**
 * Applies the defaults to a service file.
 *
 * @example
 * ```ts
 * const service = resolveService({ name: 'shop' }); // job 'shop', target '127.0.0.1:8080', ...
 * ```
 */
export function resolveService(spec: ServiceSpec): ResolvedService {
  const displayName = spec.displayName ?? spec.name;
  const target = spec.target ?? '127.0.0.1:8080';
  const levers = spec.levers ?? {};
  return {
    name: spec.name,
    displayName,
    job: spec.job ?? spec.name,
    target,
    scrapeTokenFile: spec.scrapeTokenFile,
    runbookBaseUrl: (spec.runbookBaseUrl ?? '').replace(/\/+$/, ''),
    shell: {
      env: spec.shell?.env ?? `export SERVICE_URL=http://${target}  # your instance`,
      url: spec.shell?.url ?? '$SERVICE_URL',
      metrics: spec.shell?.metrics ?? `curl -s "${spec.shell?.url ?? '$SERVICE_URL'}/metrics"`,
      label: spec.shell?.label ?? `${displayName} endpoints`,
      commands: spec.shell?.commands ?? [],
      sloCommands: spec.shell?.sloCommands ?? [],
    },
    levers,
    incidentLevers: spec.incidentLevers ?? Object.keys(levers),
    escalation: spec.escalation ?? "the owners of the service's dependencies",
    logs: {
      command:
        spec.logs?.command ?? `kubectl logs -l app.kubernetes.io/name=${spec.name} --since=1h --prefix=false`,
      loki: spec.logs?.loki ?? `{app="${spec.name}"}`,
      traceUrl: spec.logs?.traceUrl,
    },
    alerts: spec.alerts ?? {},
    slos: spec.slos ?? {},
    customAlerts: spec.customAlerts ?? [],
    metrics: (spec.metrics ?? []).map((m) => (typeof m === 'string' ? m : m.name)),
    metricSpecs: (spec.metrics ?? []).flatMap((m) =>
      typeof m === 'string'
        ? []
        : [
            {
              name: m.name,
              type: m.type,
              unit: m.unit,
              help: m.help,
              labels: [],
              group: 'USE' as const,
              source: 'ballast' as const,
            },
          ],
    ),
    dashboardRows: spec.dashboardRows ?? {},
    dashboards: spec.dashboards ?? [],
    kubernetes: {
      namespace: spec.kubernetes?.namespace,
      labels: spec.kubernetes?.labels ?? {},
      prometheusAddress: spec.kubernetes?.prometheusAddress ?? 'http://prometheus.monitoring:9090',
      podTemplateHashLabel: spec.kubernetes?.podTemplateHashLabel ?? 'rollouts_pod_template_hash',
    },
    output: {
      prometheus: spec.output?.prometheus ?? 'prometheus',
      kubernetes: spec.output?.kubernetes ?? 'kubernetes',
    },
  };
}

/**
 * The service a set of SLOs describes when there is no service file: named after the SLOs' `service`.
 *
 * @example
 * ```ts
 * const service = defaultService(['checkout']);
 * ```
 */
export function defaultService(serviceNames: readonly string[]): ResolvedService {
  const names = [...new Set(serviceNames)];
  return resolveService({ name: names.length === 1 ? names[0]! : 'service' });
}

const NAME = '^[a-z0-9]([a-z0-9-]*[a-z0-9])?$';
const METRIC_NAME = '^[a-zA-Z_:][a-zA-Z0-9_:]*$';
const strings = { type: 'array', items: { type: 'string', minLength: 1 } } as const;
const query = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'expr'],
  properties: { title: { type: 'string', minLength: 1 }, expr: { type: 'string', minLength: 1 } },
} as const;
const panel = {
  type: 'object',
  additionalProperties: false,
  required: ['dashboard', 'panel'],
  properties: { dashboard: { type: 'string', minLength: 1 }, panel: { type: 'string', minLength: 1 } },
} as const;
const hints = {
  type: 'object',
  additionalProperties: false,
  properties: {
    impact: { type: 'string' },
    queries: { type: 'array', items: query },
    panels: { type: 'array', items: panel },
    commands: strings,
    steps: strings,
    levers: strings,
    mitigation: strings,
    mitigationCommands: strings,
    exemplars: { type: 'string', minLength: 1 },
  },
} as const;
const labels = { type: 'object', additionalProperties: { type: 'string' } } as const;
const row = {
  type: 'object',
  additionalProperties: false,
  required: ['title', 'panels'],
  properties: {
    title: { type: 'string', minLength: 1 },
    panels: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['title', 'description', 'unit', 'queries'],
        properties: {
          title: { type: 'string', minLength: 1 },
          description: { type: 'string', minLength: 1 },
          unit: { type: 'string', minLength: 1 },
          queries: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['expr', 'legend'],
              properties: {
                expr: { type: 'string', minLength: 1 },
                legend: { type: 'string' },
                exemplar: { type: 'boolean' },
              },
            },
          },
          kind: { enum: ['timeseries', 'stat', 'bargauge'] },
          width: { type: 'integer', minimum: 1, maximum: 24 },
          min: { type: 'number' },
          max: { type: 'number' },
          threshold: { type: 'number' },
        },
      },
    },
  },
} as const;
const duration = { type: 'string', pattern: '^\\d+[smhd]$' } as const;
const testTime = { type: 'string', pattern: '^(\\d+m)?(\\d+s)?$', minLength: 2 } as const;
const customAlert = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'severity', 'expr', 'for', 'summary', 'description', 'runbook', 'tests'],
  properties: {
    name: { type: 'string', pattern: '^[A-Z][A-Za-z0-9]*$' },
    severity: { enum: ['critical', 'warning'] },
    expr: { type: 'string', minLength: 1 },
    for: duration,
    summary: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    runbook: {
      type: 'object',
      additionalProperties: false,
      required: ['meaning', 'impact'],
      properties: {
        meaning: { type: 'string', minLength: 1 },
        impact: { type: 'string', minLength: 1 },
        queries: { type: 'array', items: query },
        panels: { type: 'array', items: panel },
        commands: strings,
        steps: strings,
        levers: strings,
        mitigation: strings,
        mitigationCommands: strings,
      },
    },
    tests: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'series', 'firing', 'quiet'],
        properties: {
          name: { type: 'string', minLength: 1 },
          interval: { type: 'string', pattern: '^\\d+[sm]$' },
          series: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['series', 'values'],
              properties: { series: { type: 'string' }, values: { type: 'string' } },
            },
          },
          firing: {
            type: 'array',
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['at', 'labels'],
              properties: { at: testTime, labels },
            },
          },
          quiet: { type: 'array', items: testTime },
        },
      },
    },
  },
} as const;

const dashboard = {
  type: 'object',
  additionalProperties: false,
  required: ['uid', 'title', 'description', 'tags', 'jobMetric', 'rows'],
  properties: {
    uid: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,39}$' },
    title: { type: 'string', minLength: 1 },
    description: { type: 'string', minLength: 1 },
    tags: strings,
    jobMetric: { type: 'string', pattern: '^[a-zA-Z_:][a-zA-Z0-9_:]*$' },
    // The same rows a service adds to a generated dashboard (`dashboardRows`).
    rows: { type: 'array', minItems: 1, items: row },
  },
} as const;

/** The JSON Schema of the service file (draft 2020-12 subset, checked with Ajv). */
export const SERVICE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: NAME },
    displayName: { type: 'string', minLength: 1 },
    job: { type: 'string', minLength: 1 },
    target: { type: 'string', pattern: '^[^\\s/]+:\\d+$' },
    scrapeTokenFile: { type: 'string', minLength: 1 },
    runbookBaseUrl: { type: 'string', pattern: '^https?://' },
    shell: {
      type: 'object',
      additionalProperties: false,
      properties: {
        env: { type: 'string' },
        url: { type: 'string', minLength: 1 },
        metrics: { type: 'string', minLength: 1 },
        label: { type: 'string', minLength: 1 },
        commands: strings,
        sloCommands: strings,
      },
    },
    levers: {
      type: 'object',
      propertyNames: { pattern: NAME },
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['step'],
        properties: { step: { type: 'string', minLength: 1 }, commands: strings },
      },
    },
    incidentLevers: strings,
    escalation: { type: 'string', minLength: 1 },
    logs: {
      type: 'object',
      additionalProperties: false,
      properties: {
        command: { type: 'string', minLength: 1 },
        loki: { type: 'string', pattern: '^\\{.*\\}$' },
        traceUrl: { type: 'string', pattern: '^https?://.*<trace_id>' },
      },
    },
    alerts: { type: 'object', additionalProperties: hints },
    slos: { type: 'object', additionalProperties: hints },
    customAlerts: { type: 'array', items: customAlert },
    metrics: {
      type: 'array',
      items: {
        anyOf: [
          { type: 'string', pattern: METRIC_NAME },
          {
            type: 'object',
            additionalProperties: false,
            required: ['name', 'type', 'unit', 'help'],
            properties: {
              name: { type: 'string', pattern: METRIC_NAME },
              type: { enum: ['counter', 'gauge', 'histogram'] },
              unit: { type: 'string', minLength: 1 },
              help: { type: 'string', minLength: 1 },
            },
          },
        ],
      },
    },
    dashboardRows: { type: 'object', additionalProperties: { type: 'array', items: row } },
    dashboards: { type: 'array', items: dashboard },
    kubernetes: {
      type: 'object',
      additionalProperties: false,
      properties: {
        namespace: { type: 'string', pattern: NAME },
        labels,
        prometheusAddress: { type: 'string', pattern: '^https?://' },
        podTemplateHashLabel: { type: 'string', pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$' },
      },
    },
    output: {
      type: 'object',
      additionalProperties: false,
      properties: {
        prometheus: { type: 'string', minLength: 1 },
        kubernetes: { type: 'string', minLength: 1 },
      },
    },
  },
} as const;

/**
 * One problem in a service file: `file:line:column: path: message`.
 *
 * @example
 * ```ts
 * const e: ServiceFileError = { file: 'ops.service.yaml', line: 3, column: 7, path: 'job', message: 'expected a string' };
 * ```
 */
export interface ServiceFileError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly message: string;
}

/**
 * Formats a {@link ServiceFileError} as compilers do.
 *
 * @example
 * ```ts
 * formatServiceError(error); // 'ops.service.yaml:3:7: job: expected a string'
 * ```
 */
export function formatServiceError(e: ServiceFileError): string {
  return `${e.file}:${e.line}:${e.column}: ${e.path === '' ? '' : `${e.path}: `}${e.message}`;
}

let validator: ReturnType<Ajv['compile']> | undefined;

function pathOf(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function formatPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  return out;
}

function message(error: ErrorObject): string {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties':
      return `unknown field \`${String(p.additionalProperty)}\``;
    case 'required':
      return `expected a field \`${String(p.missingProperty)}\``;
    case 'enum':
      return `expected one of ${(p.allowedValues as unknown[]).map((v) => `\`${String(v)}\``).join(', ')}`;
    case 'pattern':
      return `expected a value matching ${String(p.pattern)}`;
    default:
      return `expected ${error.message ?? 'a valid value'}`;
  }
}

/**
 * Parses and validates a service file (YAML). Returns the spec, or every problem located at `file:line:col`.
 *
 * @example
 * ```ts
 * const result = parseServiceFile(readFileSync('ops.service.yaml', 'utf8'), 'ops.service.yaml');
 * if ('errors' in result) console.error(result.errors.map(formatServiceError).join('\n'));
 * ```
 */
export function parseServiceFile(
  text: string,
  file: string,
): { readonly service: ServiceSpec } | { readonly errors: readonly ServiceFileError[] } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string, msg: string): ServiceFileError => {
    const pos = lines.linePos(offset);
    return { file, line: pos.line, column: pos.col, path, message: msg };
  };
  if (doc.errors.length > 0) {
    return { errors: doc.errors.map((e) => at(e.pos[0], '', e.message.split('\n')[0] ?? 'invalid YAML')) };
  }
  const value: unknown = doc.toJS();
  validator ??= new Ajv({ allErrors: true, strict: true }).compile(SERVICE_SCHEMA);
  if (!validator(value)) {
    const errors = (validator.errors ?? []).map((error) => {
      let path = pathOf(error.instancePath);
      const p = error.params as Record<string, unknown>;
      if (error.keyword === 'additionalProperties') path = [...path, String(p.additionalProperty)];
      let node: unknown = doc.getIn(path, true);
      // An unknown key: point at the key itself.
      if (error.keyword === 'additionalProperties') {
        const parent = doc.getIn(path.slice(0, -1), true);
        if (isMap(parent)) {
          const pair = parent.items.find((i) => (i.key as { value?: unknown } | null)?.value === path.at(-1));
          node = pair?.key ?? node;
        }
      }
      while (node === undefined && path.length > 0) {
        path = path.slice(0, -1);
        node = path.length === 0 ? doc.contents : doc.getIn(path, true);
      }
      const range = (node as Node | undefined)?.range;
      const shown =
        error.keyword === 'additionalProperties'
          ? [...pathOf(error.instancePath), String(p.additionalProperty)]
          : pathOf(error.instancePath);
      return at(range?.[0] ?? 0, formatPath(shown), message(error));
    });
    return { errors };
  }
  const spec = value as ServiceSpec;
  const errors: ServiceFileError[] = [];
  const locate = (path: (string | number)[]): number => {
    const node = doc.getIn(path, true) as Node | undefined;
    return node?.range?.[0] ?? 0;
  };
  // Cross-references: every lever a hint names exists.
  const levers = new Set(Object.keys(spec.levers ?? {}));
  const checkLevers = (path: (string | number)[], names: readonly string[] | undefined): void => {
    for (const [i, name] of (names ?? []).entries()) {
      if (!levers.has(name))
        errors.push(
          at(
            locate([...path, i]),
            formatPath([...path, i]),
            levers.size === 0
              ? `expected the name of a lever under \`levers\` (there are none), got \`${name}\``
              : `expected one of the levers ${[...levers].map((l) => `\`${l}\``).join(', ')}, got \`${name}\``,
          ),
        );
    }
  };
  checkLevers(['incidentLevers'], spec.incidentLevers);
  for (const [kind, map] of [
    ['alerts', spec.alerts],
    ['slos', spec.slos],
  ] as const)
    for (const [key, h] of Object.entries(map ?? {})) checkLevers([kind, key, 'levers'], h.levers);
  const customs = doc.getIn(['customAlerts'], true);
  for (const [i, a] of (spec.customAlerts ?? []).entries()) {
    checkLevers(['customAlerts', i, 'runbook', 'levers'], (a.runbook as RunbookHints).levers);
  }
  if (isSeq(customs)) {
    const seen = new Set<string>();
    for (const [i, a] of (spec.customAlerts ?? []).entries()) {
      if (seen.has(a.name))
        errors.push(
          at(
            locate(['customAlerts', i, 'name']),
            `customAlerts[${i}].name`,
            `expected a unique name, got \`${a.name}\` twice`,
          ),
        );
      seen.add(a.name);
    }
  }
  const uids = new Set<string>();
  for (const [i, d] of (spec.dashboards ?? []).entries()) {
    if (d.uid.startsWith('ballast-') || uids.has(d.uid))
      errors.push(
        at(
          locate(['dashboards', i, 'uid']),
          `dashboards[${i}].uid`,
          `expected a uid of its own (not \`ballast-*\`, the generated dashboards', and not twice), got \`${d.uid}\``,
        ),
      );
    uids.add(d.uid);
  }
  return errors.length > 0 ? { errors } : { service: spec };
}
