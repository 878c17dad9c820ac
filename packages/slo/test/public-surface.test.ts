import { describe, expect, it } from 'vitest';
import * as slo from '../src/index.js';

describe('the @ballast/slo entry', () => {
  it('leaves the CLI internals to the ballast-slo bin', () => {
    const names = Object.keys(slo);
    for (const internal of ['EXIT', 'parseCommandArgs', 'COMMANDS', 'main', 'UsageError', 'isUsageError']) {
      expect(names, internal).not.toContain(internal);
    }
  });

  it('still exports the library: specs, engine, rules and reports', () => {
    expect(Object.keys(slo)).toEqual(
      expect.arrayContaining(['loadSlos', 'SloEngine', 'generateRules', 'renderMarkdownReport']),
    );
  });
});
