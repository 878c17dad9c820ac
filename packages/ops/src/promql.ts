import { parser } from '@prometheus-io/lezer-promql';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/**
 * PromQL analysis on Prometheus's own grammar (`@prometheus-io/lezer-promql`, the parser of the Prometheus UI):
 * which metrics an expression selects, and in which context (under which range function, with which range).
 */

/** One vector selector found in an expression. */
export interface SelectorUse {
  /** The metric name (`undefined` for a selector without one, e.g. `{__name__=~"..."}`). */
  readonly metric: string | undefined;
  /** The range text when the selector is inside `[...]` (a matrix selector), e.g. `5m`. */
  readonly range: string | undefined;
  /** The function that takes the matrix (`rate`, `increase`, `max_over_time`, …), when there is one. */
  readonly rangeFunction: string | undefined;
  /** The label names matched in `{...}`, in order. */
  readonly matchers: readonly string[];
}

/** Thrown when an expression does not parse. */
export class PromQLSyntaxError extends Error {
  constructor(
    readonly expr: string,
    readonly position: number,
  ) {
    super(
      `PromQL does not parse at offset ${position}: ${expr.slice(0, position)}⟨here⟩${expr.slice(position)}`,
    );
    this.name = 'PromQLSyntaxError';
  }
}

/** Parses `expr` and returns every selector in it, or throws {@link PromQLSyntaxError}. */
export function selectorsOf(expr: string): SelectorUse[] {
  const tree = parser.parse(expr);
  const uses: SelectorUse[] = [];
  let error: number | undefined;
  tree.iterate({
    enter(ref) {
      if (ref.type.isError && error === undefined) error = ref.from;
      if (ref.name === 'VectorSelector') uses.push(selectorUse(expr, ref.node));
    },
  });
  if (error !== undefined) throw new PromQLSyntaxError(expr, error);
  return uses;
}

function selectorUse(expr: string, node: SyntaxNode): SelectorUse {
  const text = (n: SyntaxNode): string => expr.slice(n.from, n.to);
  const identifier = node.getChild('Identifier');
  const matchers: string[] = [];
  const list = node.getChild('LabelMatchers');
  if (list) {
    for (let m = list.firstChild; m; m = m.nextSibling) {
      const name = m.getChild('LabelName');
      if (name) matchers.push(text(name));
    }
  }
  let range: string | undefined;
  let rangeFunction: string | undefined;
  const matrix = node.parent?.name === 'MatrixSelector' ? node.parent : undefined;
  if (matrix) {
    const duration = matrix.getChild('DurationExpr');
    range = duration ? text(duration) : undefined;
    const call = matrix.parent?.name === 'FunctionCallBody' ? matrix.parent.parent : undefined;
    const id = call?.name === 'FunctionCall' ? call.getChild('FunctionIdentifier') : undefined;
    rangeFunction = id ? text(id) : undefined;
  }
  return { metric: identifier ? text(identifier) : undefined, range, rangeFunction, matchers };
}

/** Replaces Grafana variables (`$name`, `${name}`) in `expr` with the values given; unknown ones stay. */
export function substituteVariables(expr: string, values: Readonly<Record<string, string>>): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return Object.hasOwn(values, name) ? values[name]! : whole;
  });
}

/**
 * True when `expr` only selects and aggregates series (no function, operator, range or subquery): its values are
 * the metric's own values, in the metric's unit.
 */
export function isPassThrough(expr: string): boolean {
  let plain = true;
  parser.parse(expr).iterate({
    enter(ref) {
      if (['BinaryExpr', 'FunctionCall', 'MatrixSelector', 'SubqueryExpr', 'OffsetExpr'].includes(ref.name))
        plain = false;
    },
  });
  return plain;
}
