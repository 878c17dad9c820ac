import type { TestProject } from 'vitest/node';
import { probeService, SERVICE_NAMES, servicesRequired, unreachableMessage } from './services.js';

/**
 * Vitest global setup: probes Redis, PostgreSQL and RabbitMQ once per run and provides the result to every test
 * file. With `BALLAST_REQUIRE_SERVICES=1`, an unreachable service fails the run here, naming the service.
 */
export default async function setup(project: TestProject): Promise<void> {
  const statuses = await Promise.all(SERVICE_NAMES.map((name) => probeService(name)));
  const down = statuses.filter((s) => !s.available);
  if (down.length > 0 && servicesRequired()) {
    throw new Error(
      `BALLAST_REQUIRE_SERVICES=1 but ${down.map((s) => s.label).join(', ')} ${down.length === 1 ? 'is' : 'are'} unreachable:\n` +
        down.map((s) => `  - ${unreachableMessage(s)}`).join('\n'),
    );
  }
  for (const s of down) console.warn(`[ballast] ${unreachableMessage(s)}: its suites will be skipped`);
  project.provide('ballastServices', statuses);
}
