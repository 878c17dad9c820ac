import {
  type GeneratedRules,
  type Slo,
  type SloAlertEvent,
  SloEngine,
  type SloStatus,
  type SpecParseResult,
  defineSlo,
  generateRules,
  parseSpecs,
} from '@ballast/slo';
import { exactly } from './expect.js';

export function slo(): void {
  const availability = defineSlo({
    service: 'checkout',
    name: 'availability',
    objective: 0.999,
    window: '30d',
    indicator: { bad: 'http_errors_total', total: 'http_requests_total' },
  });
  exactly<Slo>()(availability);

  const engine = new SloEngine({ slos: [availability], evaluateEveryMs: 60_000 });
  engine.record('availability', 99, 1);
  const status = engine.status('availability');
  exactly<SloStatus>()(status);
  exactly<number | null>()(status.sli);
  exactly<number | null>()(status.timeToExhaustionMs);
  exactly<SloStatus[]>()(engine.statusAll());
  engine.onAlert((event) => exactly<SloAlertEvent>()(event));
  engine.close();

  const parsed = parseSpecs([{ file: 'slo.yaml', text: 'apiVersion: openslo/v1\n' }]);
  exactly<SpecParseResult>()(parsed);
  exactly<readonly Slo[]>()(parsed.slos);
  const rules = generateRules(parsed.slos);
  exactly<GeneratedRules>()(rules);
  exactly<string>()(rules.yaml);
}
