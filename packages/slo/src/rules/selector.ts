/**
 * A small reader of PromQL series selectors (`metric{label="v",code=~"5.."}`), used to synthesise the input series
 * of the generated promtool tests. Label regexes are fully anchored, as in Prometheus.
 */

/** One label matcher of a selector. */
export interface LabelMatcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
}

/** A parsed series selector: the metric name (from the name or `__name__=`) and the other label matchers. */
export interface ParsedSelector {
  readonly metric: string;
  readonly matchers: readonly LabelMatcher[];
}

const METRIC = /^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)?\s*/y;
const MATCHER =
  /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)\s*(,)?/y;

function unquote(text: string): string {
  const quote = text[0];
  const body = text.slice(1, -1);
  if (quote === '`') return body;
  return body.replace(/\\(.)/g, (_, c: string) =>
    c === 'n' ? '\n' : c === 't' ? '\t' : c === 'r' ? '\r' : c,
  );
}

/** Parses a series selector; `undefined` when `text` is not one (an expression, a syntax error, no metric name). */
export function parseSelector(text: string): ParsedSelector | undefined {
  METRIC.lastIndex = 0;
  const head = METRIC.exec(text);
  const metric = head?.[1] ?? '';
  let at = METRIC.lastIndex;
  const matchers: LabelMatcher[] = [];
  if (text[at] === '{') {
    at++;
    for (;;) {
      const rest = /^\s*\}/.exec(text.slice(at));
      if (rest) {
        at += rest[0].length;
        break;
      }
      MATCHER.lastIndex = at;
      const m = MATCHER.exec(text);
      if (!m) return undefined;
      const name = m[1]!;
      const value = unquote(m[3]!);
      if (name === '__name__') {
        if (m[2] !== '=' || metric !== '') return undefined;
        matchers.push({ name, op: '=', value });
      } else {
        matchers.push({ name, op: m[2] as LabelMatcher['op'], value });
      }
      at = MATCHER.lastIndex;
      if (m[4] === undefined && !/^\s*\}/.test(text.slice(at))) return undefined;
    }
  }
  if (text.slice(at).trim() !== '') return undefined;
  const named = matchers.find((m) => m.name === '__name__');
  if (named) {
    return { metric: named.value, matchers: matchers.filter((m) => m !== named) };
  }
  if (metric === '') return undefined;
  return { metric, matchers };
}

function anchored(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, 's');
  } catch {
    return undefined;
  }
}

/** True when a label value satisfies `matcher` (a missing label is the empty string, as in Prometheus). */
export function matcherAccepts(matcher: LabelMatcher, value: string): boolean {
  switch (matcher.op) {
    case '=':
      return value === matcher.value;
    case '!=':
      return value !== matcher.value;
    case '=~':
      return anchored(matcher.value)?.test(value) ?? false;
    case '!~':
      return !(anchored(matcher.value)?.test(value) ?? true);
  }
}

/** True when the series `metric{labels}` is selected by `selector`. */
export function selects(
  selector: ParsedSelector,
  metric: string,
  labels: Readonly<Record<string, string>>,
): boolean {
  return (
    selector.metric === metric && selector.matchers.every((m) => matcherAccepts(m, labels[m.name] ?? ''))
  );
}

/** Plausible values for a regex: its alternatives with the metacharacters turned into ordinary characters. */
function regexCandidates(pattern: string): string[] {
  const out: string[] = [];
  for (const alternative of pattern.split('|')) {
    out.push(
      alternative
        .replace(/\\d/g, '0')
        .replace(/\\w/g, 'a')
        .replace(/\\s/g, ' ')
        .replace(/\[\^[^\]]*\]/g, '~')
        .replace(/\[(.)[^\]]*\]/g, '$1')
        .replace(/\.[*+]/g, 'x')
        .replace(/\./g, '0')
        .replace(/\{\d+(,\d*)?\}|[?*+()^$]/g, '')
        .replace(/\\(.)/g, '$1'),
    );
  }
  return out;
}

const FALLBACK_VALUES = [
  '',
  'ballast',
  'x',
  '0',
  '200',
  '204',
  '404',
  '500',
  '503',
  'GET',
  'POST',
  'true',
  'false',
];

/** Candidate values of `label`: the values its matchers name, regex-derived guesses, then common values. */
export function candidateValues(label: string, selectors: readonly ParsedSelector[]): string[] {
  const values = new Set<string>();
  for (const s of selectors) {
    for (const m of s.matchers) {
      if (m.name !== label) continue;
      if (m.op === '=' || m.op === '!=') values.add(m.value);
      else for (const c of regexCandidates(m.value)) values.add(c);
    }
  }
  for (const v of FALLBACK_VALUES) values.add(v);
  return [...values];
}

/**
 * Finds labels for a series of `metric` that every selector in `include` selects and none in `exclude` does;
 * `undefined` when the candidate values cannot satisfy them. Labels with an empty value are left out.
 */
export function synthesiseLabels(
  metric: string,
  include: readonly ParsedSelector[],
  exclude: readonly ParsedSelector[],
): Record<string, string> | undefined {
  const names = [...new Set([...include, ...exclude].flatMap((s) => s.matchers.map((m) => m.name)))].sort();
  const candidates = names.map((n) => candidateValues(n, [...include, ...exclude]));
  const labels: Record<string, string> = {};
  const ok = (): boolean =>
    include.every((s) => selects(s, metric, labels)) && !exclude.some((s) => selects(s, metric, labels));
  // Depth-first over the (few) labels and their (few) candidates, pruning on the include matchers.
  const search = (i: number): boolean => {
    if (i === names.length) return ok();
    const name = names[i]!;
    for (const value of candidates[i]!) {
      const fits = include.every((s) => s.matchers.every((m) => m.name !== name || matcherAccepts(m, value)));
      if (!fits) continue;
      labels[name] = value;
      if (search(i + 1)) return true;
    }
    delete labels[name];
    return false;
  };
  if (!search(0)) return undefined;
  for (const [k, v] of Object.entries(labels)) if (v === '') delete labels[k];
  return labels;
}
