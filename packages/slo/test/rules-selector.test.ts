import { describe, expect, it } from 'vitest';
import { matcherAccepts, parseSelector, synthesiseLabels } from '../src/rules/selector.js';
import { counterValues } from '../src/rules/tests.js';

describe('parseSelector', () => {
  it.each([
    ['http_requests_total', { metric: 'http_requests_total', matchers: [] }],
    [
      'http_requests_total{job="api", code=~"5.."}',
      {
        metric: 'http_requests_total',
        matchers: [
          { name: 'job', op: '=', value: 'api' },
          { name: 'code', op: '=~', value: '5..' },
        ],
      },
    ],
    ["x{a!='b\\'c',}", { metric: 'x', matchers: [{ name: 'a', op: '!=', value: "b'c" }] }],
    ['{__name__="x",a!~`y|z`}', { metric: 'x', matchers: [{ name: 'a', op: '!~', value: 'y|z' }] }],
  ])('reads %s', (text, parsed) => {
    expect(parseSelector(text)).toEqual(parsed);
  });

  it.each(['sum(rate(x[5m]))', 'x{a="b"', 'x{a=b}', '{a="b"}', 'x y'])('refuses %s', (text) => {
    expect(parseSelector(text)).toBeUndefined();
  });
});

describe('matcherAccepts', () => {
  it.each([
    ['=~', '5..', '503', true],
    ['=~', '5..', '5031', false], // anchored, as in Prometheus
    ['!~', '5..|429', '429', false],
    ['!~', '5..|429', '200', true],
    ['!=', 'x', '', true],
    ['=', '', '', true],
  ] as const)('%s %j on %j is %s', (op, value, label, accepted) => {
    expect(matcherAccepts({ name: 'l', op, value }, label)).toBe(accepted);
  });
});

describe('synthesiseLabels', () => {
  const bad = parseSelector('http_requests_total{job="api",code=~"5..|429"}')!;
  const total = parseSelector('http_requests_total{job="api"}')!;

  it('finds labels selected by every included selector and no excluded one', () => {
    expect(synthesiseLabels('http_requests_total', [bad, total], [])).toEqual({ job: 'api', code: '500' });
    expect(synthesiseLabels('http_requests_total', [total], [bad])).toEqual({ job: 'api' });
  });

  it('gives up when the selectors contradict each other', () => {
    const other = parseSelector('http_requests_total{job="web"}')!;
    expect(synthesiseLabels('http_requests_total', [bad, other], [])).toBeUndefined();
  });
});

describe('counterValues', () => {
  it.each([
    [[1, 1, 0], 0, '0+1x2 2+0x0'],
    [[5, 5, 5], 100, '100+5x3'],
    [[0, 0, 2, 2, 0.5], 1_000_000, '1000000+0x2 1000002+2x1 1000004.5+0.5x0'],
    [[], 7, '7'],
  ])('writes %j from %d as %s', (increments, start, text) => {
    expect(counterValues(increments, start)).toBe(text);
  });
});
