import { describe, expect, it } from 'vitest';
import { PromQLSyntaxError, selectorsOf, substituteVariables } from '../src/promql.js';

describe('selectorsOf', () => {
  it('finds selectors with their range function, range and matchers', () => {
    expect(
      selectorsOf(
        'sum by (le) (rate(a_bucket{job="x",le!=""}[5m])) / on() group_left b + max_over_time(c[10m:1m])',
      ),
    ).toEqual([
      { metric: 'a_bucket', range: '5m', rangeFunction: 'rate', matchers: ['job', 'le'] },
      { metric: 'b', range: undefined, rangeFunction: undefined, matchers: [] },
      { metric: 'c', range: undefined, rangeFunction: undefined, matchers: [] },
    ]);
  });

  it('throws with the offset of the first error', () => {
    expect(() => selectorsOf('sum(rate(x[5m])')).toThrow(PromQLSyntaxError);
    expect(() => selectorsOf('rate(x[5m]) +')).toThrow(/does not parse/);
  });
});

describe('substituteVariables', () => {
  it('replaces $name and ${name}, leaves unknown variables', () => {
    expect(
      substituteVariables('a{j=~"$job",i=~"${instance}"}[$__rate_interval] $other', {
        job: 'rf',
        instance: '.+',
        __rate_interval: '4s',
      }),
    ).toBe('a{j=~"rf",i=~".+"}[4s] $other');
  });
});
