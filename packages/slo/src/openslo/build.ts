import {
  defineSlo,
  isValidTimeZone,
  parseHistogramSelector,
  type AlertConditionInput,
  type IndicatorInput,
  type SloInput,
  type WindowInput,
} from '../define.js';
import { parseDuration } from '../duration.js';
import type { CalendarUnit, Slo } from '../model.js';
import { prometheusSource } from '../promql.js';
import type { SpecDocument, SpecPath } from './document.js';
import { shown, type SpecError } from './errors.js';
import type {
  RawAlertPolicyItem,
  RawAlertPolicySpec,
  RawConditionItem,
  RawConditionSpec,
  RawMetadata,
  RawSliSpec,
  RawSloSpec,
} from './raw.js';

/** Documents by kind and name, for resolving `indicatorRef`, `alertPolicyRef` and `conditionRef`. */
export interface SpecRegistry {
  readonly SLI: ReadonlyMap<string, SpecDocument>;
  readonly AlertPolicy: ReadonlyMap<string, SpecDocument>;
  readonly AlertCondition: ReadonlyMap<string, SpecDocument>;
  /** Names (`Kind/name`) of documents that failed validation: references to them are not reported again. */
  readonly broken: ReadonlySet<string>;
}

/** Where a piece of spec lives: the document and the path of the piece inside it. */
interface At {
  readonly doc: SpecDocument;
  readonly path: SpecPath;
}

const ANNOTATION_MIN_EVENTS = 'ballast.dev/min-events';
const CALENDAR_UNITS: Readonly<Record<string, CalendarUnit>> = {
  d: 'day',
  w: 'week',
  M: 'month',
  Q: 'quarter',
  Y: 'year',
};
const QUERY_EXPECTED =
  'a counter selector such as `http_requests_total{code=~"5.."}` or a PromQL expression containing `{{.window}}`';

class Builder {
  readonly errors: SpecError[] = [];
  constructor(readonly registry: SpecRegistry) {}

  fail(at: At, message: string, key?: string): undefined {
    this.errors.push(at.doc.error(at.path, message, key));
    return undefined;
  }

  resolve(kind: 'SLI' | 'AlertPolicy' | 'AlertCondition', ref: string, at: At): SpecDocument | undefined {
    const found = this.registry[kind].get(ref);
    if (found) return found;
    if (this.registry.broken.has(`${kind}/${ref}`)) return undefined;
    const known = [...this.registry[kind].keys()];
    return this.fail(
      at,
      `unknown ${kind} \`${ref}\`; expected the name of an ${kind} document${known.length > 0 ? ` (${known.map((k) => `\`${k}\``).join(', ')})` : ' (none loaded)'}`,
    );
  }

  query(source: { metricSource: { spec: { query: string } } }, at: At): string | undefined {
    const query = source.metricSource.spec.query;
    if (prometheusSource(query)) return query;
    return this.fail(
      { doc: at.doc, path: [...at.path, 'metricSource', 'spec', 'query'] },
      `expected ${QUERY_EXPECTED}, got ${shown(query)}`,
    );
  }

  /** The SLI the SLO reads (inline or by reference): where its spec lives, or `undefined` after reporting. */
  sli(spec: RawSloSpec, slo: At): At | undefined {
    const specAt = { doc: slo.doc, path: [...slo.path, 'spec'] };
    if (spec.indicator && spec.indicatorRef !== undefined) {
      return this.fail(specAt, 'expected either `indicator` or `indicatorRef`, not both', 'indicatorRef');
    }
    if (spec.indicator) return { doc: slo.doc, path: [...specAt.path, 'indicator', 'spec'] };
    if (spec.indicatorRef !== undefined) {
      const doc = this.resolve('SLI', spec.indicatorRef, {
        doc: slo.doc,
        path: [...specAt.path, 'indicatorRef'],
      });
      return doc ? { doc, path: ['spec'] } : undefined;
    }
    return this.fail(
      specAt,
      'missing `indicator` or `indicatorRef` (an inline SLI or the name of an SLI document)',
    );
  }

  /** The ratio half of the indicator, shared by every objective: `undefined` after reporting a problem. */
  ratio(sli: At): IndicatorInput | undefined {
    const raw = sli.doc.get(sli.path) as RawSliSpec;
    const ratio = raw.ratioMetric!;
    const ratioAt = { doc: sli.doc, path: [...sli.path, 'ratioMetric'] };
    if (ratio.good && ratio.bad)
      return this.fail(ratioAt, 'expected either `good` or `bad`, not both', 'bad');
    const total = this.query(ratio.total, { doc: sli.doc, path: [...ratioAt.path, 'total'] });
    if (ratio.good) {
      const good = this.query(ratio.good, { doc: sli.doc, path: [...ratioAt.path, 'good'] });
      return good !== undefined && total !== undefined ? { good, total } : undefined;
    }
    if (ratio.bad) {
      const bad = this.query(ratio.bad, { doc: sli.doc, path: [...ratioAt.path, 'bad'] });
      return bad !== undefined && total !== undefined ? { bad, total } : undefined;
    }
    return this.fail(ratioAt, 'missing `good` or `bad` (the events to count against `total`)');
  }

  /**
   * The indicator of each objective: a ratio SLI is the same for all of them, a threshold SLI takes each
   * objective's `value` as its latency threshold. `undefined` after reporting a problem.
   */
  indicators(spec: RawSloSpec, slo: At): IndicatorInput[] | undefined {
    const sli = this.sli(spec, slo);
    if (!sli) return undefined;
    const raw = sli.doc.get(sli.path) as RawSliSpec;
    const objectiveAt = (i: number): At => ({
      doc: slo.doc,
      path: [...slo.path, 'spec', 'objectives', i],
    });
    if (raw.ratioMetric && raw.thresholdMetric) {
      return this.fail(
        sli,
        'expected either `ratioMetric` or `thresholdMetric`, not both',
        'thresholdMetric',
      );
    }
    if (raw.ratioMetric) {
      let ok = true;
      for (const [i, objective] of spec.objectives.entries()) {
        if (objective.value !== undefined) {
          ok = false;
          this.fail(objectiveAt(i), '`op` and `value` apply to `thresholdMetric` SLIs only', 'value');
        }
        if (objective.op === 'lte' || objective.op === 'lt') {
          ok = false;
          this.fail(
            { doc: slo.doc, path: [...objectiveAt(i).path, 'op'] },
            `\`op: ${objective.op}\` applies to \`thresholdMetric\` SLIs only; a ratio objective means good / total >= target (omit \`op\`, or write \`gte\` or \`gt\`)`,
          );
        }
      }
      const ratio = this.ratio(sli);
      return ok && ratio ? spec.objectives.map(() => ratio) : undefined;
    }
    if (raw.thresholdMetric) {
      const query = raw.thresholdMetric.metricSource.spec.query;
      const histogram = parseHistogramSelector(query);
      if (!histogram) {
        return this.fail(
          { doc: sli.doc, path: [...sli.path, 'thresholdMetric', 'metricSource', 'spec', 'query'] },
          `expected a histogram selector such as \`http_request_duration_seconds{job="api"}\`, got ${shown(query)}`,
        );
      }
      const out: IndicatorInput[] = [];
      for (const [i, objective] of spec.objectives.entries()) {
        if (objective.op === 'gte' || objective.op === 'gt') {
          this.fail(
            { doc: slo.doc, path: [...objectiveAt(i).path, 'op'] },
            `expected \`lte\` or \`lt\` (good events are at or below \`value\`: a histogram counts observations up to a bucket bound), got ${shown(objective.op)}`,
          );
        } else if (objective.value === undefined) {
          this.fail(
            objectiveAt(i),
            'missing required field `value` (the latency threshold in the histogram unit, e.g. `0.3`)',
          );
        } else out.push({ latency: { histogram: query, threshold: objective.value } });
      }
      return out.length === spec.objectives.length ? out : undefined;
    }
    return this.fail(sli, 'missing `ratioMetric` or `thresholdMetric`');
  }

  /**
   * The key of each objective when there are several (its `name`, else its display name in kebab case, else its
   * position from 1), checked unique and short enough for `<slo>-<key>` to be a name.
   */
  objectiveKeys(spec: RawSloSpec, sloName: string, slo: At): string[] | undefined {
    if (spec.objectives.length === 1) return [''];
    const keys: string[] = [];
    const first = new Map<string, number>();
    let ok = true;
    for (const [i, o] of spec.objectives.entries()) {
      const at = { doc: slo.doc, path: [...slo.path, 'spec', 'objectives', i] };
      const fromDisplay = (o.displayName ?? '')
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, '-')
        .replace(/^-+|-+$/g, '')
        .slice(0, 32)
        .replace(/-+$/, '');
      const key = o.name ?? (fromDisplay === '' ? String(i + 1) : fromDisplay);
      const seen = first.get(key);
      if (seen !== undefined) {
        ok = false;
        this.fail(
          at,
          `expected objectives with distinct keys; \`${key}\` (from ${o.name === undefined ? '`displayName`' : '`name`'}) is also the key of objectives[${seen}]: give one a \`name\``,
          o.name === undefined ? 'displayName' : 'name',
        );
        continue;
      }
      first.set(key, i);
      if (`${sloName}-${key}`.length > 63) {
        ok = false;
        this.fail(
          at,
          `expected \`<slo>-<objective>\` within 63 characters, got \`${sloName}-${key}\`: give the objective a shorter \`name\``,
        );
      }
      keys.push(key);
    }
    return ok ? keys : undefined;
  }

  window(spec: RawSloSpec, slo: At): WindowInput | undefined {
    const tw = spec.timeWindow[0];
    const at = { doc: slo.doc, path: [...slo.path, 'spec', 'timeWindow', 0] };
    const rolling = tw.isRolling ?? tw.calendar === undefined;
    if (rolling) {
      if (tw.calendar)
        return this.fail(at, '`calendar` applies to windows with `isRolling: false`', 'calendar');
      if (parseDuration(tw.duration) === undefined) {
        return this.fail(
          { doc: at.doc, path: [...at.path, 'duration'] },
          `expected a fixed duration such as \`28d\` for a rolling window (months, quarters and years have no fixed length: use \`isRolling: false\` with \`calendar\`), got ${shown(tw.duration)}`,
        );
      }
      return tw.duration;
    }
    const match = /^1([dwMQY])$/.exec(tw.duration);
    const unit = match ? CALENDAR_UNITS[match[1]!] : undefined;
    if (!unit) {
      return this.fail(
        { doc: at.doc, path: [...at.path, 'duration'] },
        `expected \`1d\`, \`1w\`, \`1M\`, \`1Q\` or \`1Y\` for a calendar window, got ${shown(tw.duration)}`,
      );
    }
    if (!tw.calendar) {
      return this.fail(
        at,
        'missing required field `calendar` (a mapping with `timeZone`) for a window with `isRolling: false`',
      );
    }
    if (!isValidTimeZone(tw.calendar.timeZone)) {
      return this.fail(
        { doc: at.doc, path: [...at.path, 'calendar', 'timeZone'] },
        `expected an IANA time zone such as \`Europe/Berlin\`, got ${shown(tw.calendar.timeZone)}`,
      );
    }
    return { calendar: unit, timeZone: tw.calendar.timeZone };
  }

  objective(
    spec: RawSloSpec,
    slo: At,
    i: number,
  ): { objective: number; budgeting: SloInput['budgeting'] } | undefined {
    const o = spec.objectives[i]!;
    const at = { doc: slo.doc, path: [...slo.path, 'spec', 'objectives', i] };
    let objective: number | undefined;
    if (o.target !== undefined && o.targetPercent !== undefined) {
      this.fail(at, 'expected either `target` or `targetPercent`, not both', 'targetPercent');
    } else if (o.target !== undefined) objective = o.target;
    else if (o.targetPercent !== undefined) objective = Number((o.targetPercent / 100).toPrecision(12));
    else
      this.fail(
        at,
        'missing required field `target` (a ratio such as `0.999`) or `targetPercent` (such as `99.9`)',
      );
    let budgeting: SloInput['budgeting'] = 'Occurrences';
    if (spec.budgetingMethod === 'Timeslices') {
      if (o.timeSliceTarget === undefined) {
        this.fail(
          at,
          'missing required field `timeSliceTarget` (a ratio such as `0.95`) for `budgetingMethod: Timeslices`',
        );
      }
      if (o.timeSliceWindow === undefined) {
        this.fail(
          at,
          'missing required field `timeSliceWindow` (a slice length such as `1m`) for `budgetingMethod: Timeslices`',
        );
      }
      if (o.timeSliceTarget === undefined || o.timeSliceWindow === undefined) return undefined;
      budgeting = { timeslices: { target: o.timeSliceTarget, window: o.timeSliceWindow } };
    } else {
      for (const key of ['timeSliceTarget', 'timeSliceWindow'] as const) {
        if (o[key] !== undefined)
          this.fail(at, `\`${key}\` applies to \`budgetingMethod: Timeslices\` only`, key);
      }
    }
    return objective === undefined ? undefined : { objective, budgeting };
  }

  condition(raw: RawConditionSpec, name: string, at: At): AlertConditionInput | undefined {
    const c = raw.condition;
    const conditionAt = { doc: at.doc, path: [...at.path, 'condition'] };
    if (c.shortWindow !== undefined && parseDuration(c.shortWindow)! >= parseDuration(c.lookbackWindow)!) {
      return this.fail(
        { doc: at.doc, path: [...conditionAt.path, 'shortWindow'] },
        `expected a short window shorter than \`lookbackWindow\` (${c.lookbackWindow}), got ${shown(c.shortWindow)}`,
      );
    }
    return {
      name,
      severity: raw.severity,
      burnRate: c.threshold,
      longWindow: c.lookbackWindow,
      ...(c.shortWindow === undefined ? {} : { shortWindow: c.shortWindow }),
      ...(c.alertAfter === undefined ? {} : { for: c.alertAfter }),
    };
  }

  /**
   * A list item that is either `<refKey>: <name>` or an inline document (`kind`, `metadata`, `spec`): where its
   * spec lives and its name, or `undefined` after reporting what is wrong.
   */
  refOrInline(
    item: RawAlertPolicyItem | RawConditionItem,
    refKey: 'alertPolicyRef' | 'conditionRef',
    kind: 'AlertPolicy' | 'AlertCondition',
    at: At,
  ): { spec: At; name: string } | undefined {
    const ref = (item as Partial<Record<typeof refKey, string>>)[refKey];
    if (ref !== undefined) {
      if (item.kind !== undefined || item.metadata !== undefined || item.spec !== undefined) {
        return this.fail(
          at,
          `expected either \`${refKey}\` or an inline ${kind} (\`kind\`, \`metadata\`, \`spec\`), not both`,
        );
      }
      const doc = this.resolve(kind, ref, { doc: at.doc, path: [...at.path, refKey] });
      return doc ? { spec: { doc, path: ['spec'] }, name: ref } : undefined;
    }
    const missing = (['kind', 'metadata', 'spec'] as const).filter((k) => item[k] === undefined);
    if (missing.length > 0) {
      return this.fail(
        at,
        `missing ${missing.map((m) => `\`${m}\``).join(', ')}; expected \`${refKey}: <name>\` or an inline ${kind}`,
      );
    }
    return { spec: { doc: at.doc, path: [...at.path, 'spec'] }, name: item.metadata!.name };
  }

  alerting(spec: RawSloSpec, slo: At): AlertConditionInput[] | undefined | false {
    if (spec.alertPolicies === undefined) return undefined;
    const conditions: AlertConditionInput[] = [];
    const names = new Map<string, At>();
    let ok = true;
    for (const [i, item] of spec.alertPolicies.entries()) {
      const itemAt = { doc: slo.doc, path: [...slo.path, 'spec', 'alertPolicies', i] };
      const policy = this.refOrInline(item, 'alertPolicyRef', 'AlertPolicy', itemAt);
      if (!policy) {
        ok = false;
        continue;
      }
      const rawPolicy = policy.spec.doc.get(policy.spec.path) as RawAlertPolicySpec;
      if (rawPolicy.alertWhenBreaching === false) {
        // The generated alerts fire while a condition breaches; a policy that must not would write dead alerts.
        ok = false;
        this.fail(
          policy.spec,
          '`alertWhenBreaching: false` is not supported: the generated burn-rate alerts fire while a condition breaches; leave the policy out of the SLO instead',
          'alertWhenBreaching',
        );
        continue;
      }
      for (const [j, c] of rawPolicy.conditions.entries()) {
        const cAt = { doc: policy.spec.doc, path: [...policy.spec.path, 'conditions', j] };
        const condition = this.refOrInline(c, 'conditionRef', 'AlertCondition', cAt);
        if (!condition) {
          ok = false;
          continue;
        }
        const { name, spec: rawAt } = condition;
        const raw = rawAt.doc.get(rawAt.path) as RawConditionSpec;
        const first = names.get(name);
        if (first) {
          ok = false;
          const where = first.doc.error(first.path, '');
          this.fail(
            cAt,
            `expected condition names unique within the SLO; \`${name}\` is already used at ${where.file}:${where.line}:${where.column}`,
          );
          continue;
        }
        names.set(name, cAt);
        const built = this.condition(raw, name, rawAt);
        if (built) conditions.push(built);
        else ok = false;
      }
    }
    return ok ? conditions : false;
  }

  metadata(meta: RawMetadata, slo: At): { labels: Record<string, string>; minEvents?: number } | undefined {
    const labels: Record<string, string> = {};
    let ok = true;
    for (const [key, value] of Object.entries(meta.labels ?? {})) {
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) {
        ok = false;
        this.fail(
          { doc: slo.doc, path: [...slo.path, 'metadata', 'labels'] },
          `expected a Prometheus label name (letters, digits and \`_\`, not starting with a digit), got ${shown(key)}`,
          key,
        );
        continue;
      }
      labels[key] = typeof value === 'string' ? value : value.join(',');
    }
    const minEvents = meta.annotations?.[ANNOTATION_MIN_EVENTS];
    if (minEvents !== undefined && !/^\d+$/.test(minEvents)) {
      ok = false;
      this.fail(
        { doc: slo.doc, path: [...slo.path, 'metadata', 'annotations'] },
        `expected a whole number of events (the low-traffic guard), got ${shown(minEvents)}`,
        ANNOTATION_MIN_EVENTS,
      );
    }
    if (!ok) return undefined;
    return minEvents === undefined ? { labels } : { labels, minEvents: Number(minEvents) };
  }
}

/**
 * Builds the {@link Slo}s of one schema-valid SLO document (one per objective): resolves references, checks what
 * the schema cannot express, and calls {@link defineSlo}. Returns the located errors instead when there are any.
 * A document with one objective gives one SLO named after it; with several, each objective gives an SLO named
 * `<document>-<key>` with `objectiveOf` set, an `objective` label and `<display name>: <objective>` as display name.
 */
export function buildSlo(doc: SpecDocument, registry: SpecRegistry): { slos: Slo[]; errors: SpecError[] } {
  const b = new Builder(registry);
  const root: At = { doc, path: [] };
  const meta = doc.get(['metadata']) as RawMetadata;
  const spec = doc.get(['spec']) as RawSloSpec;
  const indicators = b.indicators(spec, root);
  const window = b.window(spec, root);
  const objectives = spec.objectives.map((_, i) => b.objective(spec, root, i));
  const keys = b.objectiveKeys(spec, meta.name, root);
  const conditions = b.alerting(spec, root);
  const metadata = b.metadata(meta, root);
  if (
    b.errors.length > 0 ||
    !indicators ||
    !window ||
    !keys ||
    objectives.some((o) => o === undefined) ||
    conditions === false ||
    !metadata
  ) {
    return { slos: [], errors: b.errors };
  }
  const location = doc.error([], '');
  const several = spec.objectives.length > 1;
  const slos: Slo[] = [];
  const errors: SpecError[] = [];
  for (const [i, raw] of spec.objectives.entries()) {
    const objective = objectives[i]!;
    const key = keys[i]!;
    const objectiveLocation = several ? doc.error(['spec', 'objectives', i], '') : location;
    const displayName = meta.displayName ?? meta.name;
    try {
      slos.push(
        defineSlo({
          service: spec.service,
          name: several ? `${meta.name}-${key}` : meta.name,
          ...(several
            ? { displayName: `${displayName}: ${raw.displayName ?? key}` }
            : meta.displayName === undefined
              ? {}
              : { displayName: meta.displayName }),
          ...(spec.description === undefined ? {} : { description: spec.description }),
          objective: objective.objective,
          window,
          indicator: indicators[i]!,
          ...(objective.budgeting === undefined ? {} : { budgeting: objective.budgeting }),
          alerting: {
            ...(conditions === undefined ? {} : { conditions }),
            ...(metadata.minEvents === undefined ? {} : { minEvents: metadata.minEvents }),
          },
          labels: several ? { objective: key, ...metadata.labels } : metadata.labels,
          source: {
            file: objectiveLocation.file,
            line: objectiveLocation.line,
            column: objectiveLocation.column,
          },
          ...(several ? { objectiveOf: { slo: meta.name, objective: key, index: i } } : {}),
        }),
      );
    } catch (error) {
      errors.push(
        doc.error(
          several ? ['spec', 'objectives', i] : ['spec'],
          error instanceof Error ? error.message : String(error),
        ),
      );
    }
  }
  return errors.length > 0 ? { slos: [], errors } : { slos, errors };
}
