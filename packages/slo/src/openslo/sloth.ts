import { LineCounter, parseDocument, stringify } from 'yaml';
import { parseDuration } from '../duration.js';
import { SpecDocument, type SpecPath } from './document.js';
import { SpecValidationError, shown, type SpecError } from './errors.js';

/**
 * Options of {@link importSloth}.
 *
 * @example
 * ```ts
 * const options: SlothImportOptions = { period: '28d' };
 * ```
 */
export interface SlothImportOptions {
  /**
   * The SLO period: Sloth specs do not carry one (Sloth's `--default-slo-period` applies, 30 days unless set).
   * @default '30d'
   */
  readonly period?: string;
}

type Plain = Record<string, unknown>;

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);

function stringLabels(
  value: unknown,
  at: SpecPath,
  doc: SpecDocument,
  errors: SpecError[],
): Record<string, string> {
  if (value === undefined) return {};
  if (!isPlain(value)) {
    errors.push(doc.error(at, `expected a mapping of label names to strings, got ${shown(value)}`));
    return {};
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(value)) {
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') out[k] = String(v);
    else errors.push(doc.error([...at, k], `expected a string, got ${shown(v)}`));
  }
  return out;
}

/**
 * Converts a Sloth spec (`version: prometheus/v1`, a `service` and its `slos`) into OpenSLO v1 YAML that
 * {@link parseSlos} reads: one `Service` document and one `SLO` per Sloth SLO, with `sli.events.error_query` /
 * `total_query` as a ratio of bad to all events (Sloth's `{{.window}}` placeholder is Ballast's too), the
 * objective in percent as the target ratio, the global and per-SLO labels as labels, and the period from
 * `options.period`. Sloth's alert names and alert labels have no OpenSLO place: Ballast names its alerts
 * `<Service><Slo>BurnRatePage` / `Ticket`; a disabled page or ticket alert is noted in the SLO's description
 * (Ballast writes both). SLIs Ballast cannot count (`sli.raw.error_ratio_query`, `sli.plugin`) are errors.
 *
 * @throws SpecValidationError with every problem, each located (file:line:column and path).
 * @example
 * ```ts
 * import { importSloth, parseSlos } from '@ballast/slo';
 * const openslo = importSloth(readFileSync('sloth.yaml', 'utf8'), 'sloth.yaml', { period: '30d' });
 * const slos = parseSlos(openslo, 'imported.yaml');
 * ```
 */
export function importSloth(text: string, file: string, options: SlothImportOptions = {}): string {
  const period = options.period ?? '30d';
  const lines = new LineCounter();
  const yamlDoc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  const errors: SpecError[] = [];
  const doc = new SpecDocument(file, 0, yamlDoc, lines, yamlDoc.toJS() as unknown);
  for (const e of yamlDoc.errors) {
    const { line, col } = lines.linePos(e.pos[0]);
    errors.push({ file, line, column: col, document: 0, path: '', message: e.message.split('\n')[0]! });
  }
  if (errors.length > 0) throw new SpecValidationError(errors);
  if (parseDuration(period) === undefined) {
    throw new SpecValidationError([
      {
        file,
        line: 1,
        column: 1,
        document: 0,
        path: '',
        message: `expected a period such as \`30d\`, got ${shown(period)}`,
      },
    ]);
  }
  const root = doc.value;
  if (!isPlain(root))
    throw new SpecValidationError([
      doc.error([], 'expected a Sloth spec: a mapping with `version`, `service` and `slos`'),
    ]);
  if (root.version !== 'prometheus/v1') {
    errors.push(
      doc.error(
        ['version'],
        `expected \`prometheus/v1\` (Sloth's Prometheus spec format), got ${shown(root.version)}`,
      ),
    );
  }
  const service = root.service;
  if (typeof service !== 'string' || service === '') {
    errors.push(doc.error(['service'], `expected the service name, got ${shown(service)}`));
  }
  const common = stringLabels(root.labels, ['labels'], doc, errors);
  const slos = root.slos;
  if (!Array.isArray(slos) || slos.length === 0) {
    errors.push(doc.error(['slos'], `expected a list of SLOs, got ${shown(slos)}`));
  }
  const docs: object[] = [
    {
      apiVersion: 'openslo/v1',
      kind: 'Service',
      metadata: { name: service },
      spec: { description: `Imported from the Sloth spec ${file}.` },
    },
  ];
  for (const [i, slo] of (Array.isArray(slos) ? slos : []).entries()) {
    const at: SpecPath = ['slos', i];
    if (!isPlain(slo)) {
      errors.push(
        doc.error(at, `expected an SLO mapping with \`name\`, \`objective\` and \`sli\`, got ${shown(slo)}`),
      );
      continue;
    }
    if (typeof slo.name !== 'string' || slo.name === '') {
      errors.push(doc.error([...at, 'name'], `expected the SLO name, got ${shown(slo.name)}`));
    }
    const objective = slo.objective;
    if (typeof objective !== 'number' || !(objective > 0 && objective < 100)) {
      errors.push(
        doc.error(
          [...at, 'objective'],
          `expected a percentage between 0 and 100 (exclusive) such as \`99.9\`, got ${shown(objective)}`,
        ),
      );
    }
    const sli = slo.sli;
    let bad: unknown;
    let total: unknown;
    if (!isPlain(sli)) {
      errors.push(
        doc.error(
          [...at, 'sli'],
          `expected \`sli.events\` with \`error_query\` and \`total_query\`, got ${shown(sli)}`,
        ),
      );
    } else if (sli.raw !== undefined) {
      errors.push(
        doc.error(
          [...at, 'sli'],
          'a raw error ratio cannot be imported: Ballast counts events (write `sli.events` with `error_query` and `total_query`)',
          'raw',
        ),
      );
    } else if (sli.plugin !== undefined) {
      errors.push(
        doc.error(
          [...at, 'sli'],
          'Sloth SLI plugins cannot be imported: write `sli.events` with `error_query` and `total_query`',
          'plugin',
        ),
      );
    } else if (!isPlain(sli.events)) {
      errors.push(
        doc.error([...at, 'sli'], 'expected `sli.events` with `error_query` and `total_query`', 'events'),
      );
    } else {
      bad = sli.events.error_query;
      total = sli.events.total_query;
      for (const [key, query] of [
        ['error_query', bad],
        ['total_query', total],
      ] as const) {
        if (typeof query !== 'string' || query.trim() === '') {
          errors.push(
            doc.error([...at, 'sli', 'events', key], `expected a PromQL query, got ${shown(query)}`),
          );
        }
      }
    }
    const labels = { ...common, ...stringLabels(slo.labels, [...at, 'labels'], doc, errors) };
    const alerting = isPlain(slo.alerting) ? slo.alerting : {};
    const disabled = (['page_alert', 'ticket_alert'] as const).filter((k) => {
      const alert = alerting[k];
      return isPlain(alert) && alert.disable === true;
    });
    const description = [
      typeof slo.description === 'string' ? slo.description : '',
      disabled.length > 0 ? `Sloth disabled its ${disabled.join(' and ')}; Ballast writes both.` : '',
    ]
      .filter((t) => t !== '')
      .join(' ');
    docs.push({
      apiVersion: 'openslo/v1',
      kind: 'SLO',
      metadata: { name: slo.name, ...(Object.keys(labels).length > 0 ? { labels } : {}) },
      spec: {
        ...(description === '' ? {} : { description }),
        service,
        indicator: {
          metadata: { name: `${String(slo.name)}-events` },
          spec: {
            ratioMetric: {
              counter: true,
              bad: { metricSource: { type: 'Prometheus', spec: { query: bad } } },
              total: { metricSource: { type: 'Prometheus', spec: { query: total } } },
            },
          },
        },
        timeWindow: [{ duration: period, isRolling: true }],
        budgetingMethod: 'Occurrences',
        objectives: [
          { target: typeof objective === 'number' ? Number((objective / 100).toPrecision(12)) : objective },
        ],
      },
    });
  }
  if (errors.length > 0) throw new SpecValidationError(errors);
  return (
    `# OpenSLO v1, imported from the Sloth spec ${file} by \`ballast-slo import\`.\n` +
    docs.map((d) => stringify(d, { lineWidth: 0 })).join('---\n')
  );
}
