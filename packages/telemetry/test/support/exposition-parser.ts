/**
 * A strict parser for the Prometheus text format 0.0.4 and OpenMetrics 1.0 text, including exemplars. Malformed
 * input throws with the line number, so tests fail on bad exposition instead of matching substrings.
 */

export interface ParsedExemplar {
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}
export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  exemplar?: ParsedExemplar;
}
export interface ParsedFamily {
  name: string;
  type: string;
  help: string;
  samples: ParsedSample[];
}
export interface ParsedExposition {
  families: Map<string, ParsedFamily>;
  sawEof: boolean;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const SUFFIXES: Record<string, readonly string[]> = {
  counter: ['_total', '_created', ''],
  histogram: ['_bucket', '_sum', '_count', '_created'],
  gauge: [''],
  summary: ['', '_sum', '_count', '_created'],
  untyped: [''],
  unknown: [''],
  info: ['_info'],
  stateset: [''],
};

class Cursor {
  pos = 0;
  constructor(
    readonly text: string,
    readonly line: number,
  ) {}
  fail(what: string): never {
    throw new Error(`line ${this.line}: ${what} at column ${this.pos + 1}: ${JSON.stringify(this.text)}`);
  }
  get rest(): string {
    return this.text.slice(this.pos);
  }
  take(re: RegExp, what: string): string {
    const m = re.exec(this.rest);
    if (!m) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return m[0];
  }
  eat(ch: string): boolean {
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }
  expect(ch: string): void {
    if (!this.eat(ch)) this.fail(`expected ${JSON.stringify(ch)}`);
  }
  spaces(): void {
    while (this.text[this.pos] === ' ' || this.text[this.pos] === '\t') this.pos++;
  }
  get done(): boolean {
    return this.pos >= this.text.length;
  }
}

function parseValue(token: string, cur: Cursor): number {
  if (token === '+Inf' || token === 'Inf') return Infinity;
  if (token === '-Inf') return -Infinity;
  if (token === 'NaN') return NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(token)) cur.fail(`bad number ${JSON.stringify(token)}`);
  return Number(token);
}

function parseLabels(cur: Cursor): Record<string, string> {
  const labels: Record<string, string> = {};
  cur.expect('{');
  cur.spaces();
  while (!cur.eat('}')) {
    const name = cur.take(LABEL_NAME, 'label name');
    cur.spaces();
    cur.expect('=');
    cur.spaces();
    cur.expect('"');
    let value = '';
    for (;;) {
      if (cur.done) cur.fail('unterminated label value');
      const ch = cur.text[cur.pos++]!;
      if (ch === '"') break;
      if (ch === '\\') {
        const esc = cur.text[cur.pos++];
        if (esc === 'n') value += '\n';
        else if (esc === '\\') value += '\\';
        else if (esc === '"') value += '"';
        else cur.fail(`bad escape \\${esc}`);
      } else if (ch === '\n') cur.fail('newline in label value');
      else value += ch;
    }
    if (name in labels) cur.fail(`duplicate label ${name}`);
    labels[name] = value;
    cur.spaces();
    if (!cur.eat(',')) {
      cur.spaces();
      cur.expect('}');
      break;
    }
    cur.spaces();
  }
  return labels;
}

function unescapeHelp(text: string): string {
  return text.replace(/\\(n|\\|")/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

/** Parses an exposition; `openMetrics` enables exemplars and requires the `# EOF` terminator. */
export function parseExposition(text: string, openMetrics = false): ParsedExposition {
  const families = new Map<string, ParsedFamily>();
  const lines = text.split('\n');
  if (lines.at(-1) !== '') throw new Error('exposition must end with a newline');
  lines.pop();
  let sawEof = false;
  let current: ParsedFamily | undefined;
  const family = (name: string): ParsedFamily => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', help: '', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  lines.forEach((raw, i) => {
    const cur = new Cursor(raw, i + 1);
    if (sawEof) cur.fail('content after # EOF');
    if (raw === '') {
      if (openMetrics) cur.fail('empty line in OpenMetrics');
      return;
    }
    if (raw.startsWith('#')) {
      if (raw === '# EOF') {
        if (!openMetrics) cur.fail('# EOF in Prometheus text');
        sawEof = true;
        return;
      }
      const m = /^# (HELP|TYPE|UNIT) ([a-zA-Z_:][a-zA-Z0-9_:]*)(?: (.*))?$/.exec(raw);
      if (!m) {
        if (openMetrics) cur.fail('unknown comment');
        return;
      }
      const [, kind, name = '', rest = ''] = m;
      const f = family(name);
      if (kind === 'HELP') f.help = unescapeHelp(rest);
      else if (kind === 'TYPE') {
        if (!(rest in SUFFIXES)) cur.fail(`unknown type ${rest}`);
        if (f.samples.length > 0) cur.fail('TYPE after samples');
        f.type = rest;
      }
      current = f;
      return;
    }
    const name = cur.take(NAME, 'metric name');
    const labels = cur.text[cur.pos] === '{' ? parseLabels(cur) : {};
    cur.take(/^[ \t]+/, 'space');
    const value = parseValue(cur.take(/^\S+/, 'value'), cur);
    cur.spaces();
    let exemplar: ParsedExemplar | undefined;
    if (!cur.done && /^[-+\d]/.test(cur.rest)) {
      cur.take(/^\S+/, 'timestamp');
      cur.spaces();
    }
    if (!cur.done) {
      if (!openMetrics) cur.fail('trailing content');
      cur.expect('#');
      cur.take(/^ /, 'space before exemplar');
      const exLabels = parseLabels(cur);
      cur.take(/^ /, 'space');
      const exValue = parseValue(cur.take(/^\S+/, 'exemplar value'), cur);
      exemplar = { labels: exLabels, value: exValue };
      if (cur.eat(' ')) exemplar.timestamp = parseValue(cur.take(/^\S+/, 'exemplar timestamp'), cur);
      if (!cur.done) cur.fail('trailing content after exemplar');
    }
    const owner =
      current && (SUFFIXES[current.type] ?? ['']).some((s) => current!.name + s === name)
        ? current
        : family(name);
    if (exemplar && !(owner.type === 'histogram' && name.endsWith('_bucket')) && owner.type !== 'counter') {
      cur.fail('exemplar on a sample that cannot carry one');
    }
    owner.samples.push({ name, labels, value, ...(exemplar ? { exemplar } : {}) });
  });
  if (openMetrics && !sawEof) throw new Error('OpenMetrics exposition without # EOF');
  return { families, sawEof };
}

/** Distinct label sets of a family (histograms: ignoring `le`, counting each series once). */
export function seriesCount(family: ParsedFamily): number {
  const keys = new Set<string>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    keys.add(
      `${s.name.replace(/_(bucket|sum|count)$/, '')}${JSON.stringify(Object.entries(rest).sort(([a], [b]) => a.localeCompare(b)))}`,
    );
  }
  return keys.size;
}
