import { inject } from 'vitest';
import { unreachableMessage, type ServiceName, type ServiceStatus } from './services.js';

declare module 'vitest' {
  export interface ProvidedContext {
    ballastServices: ServiceStatus[];
  }
}

/** A service as a test file sees it: where it is, and whether its suite should run. */
export interface TestService {
  readonly url: string;
  readonly available: boolean;
  /** `describe.skipIf` argument: true when the suite must be skipped. */
  readonly skip: boolean;
}

/**
 * Looks up the probe made once for the whole run (see `globalSetup`). When the service is unreachable this prints
 * one line saying the suite is skipped; under `BALLAST_REQUIRE_SERVICES=1` the run has already failed in setup.
 *
 * @example
 * ```ts
 * const redis = testService('redis');
 * describe.skipIf(redis.skip)('Redis limiter', () => { ... });
 * ```
 */
export function testService(name: ServiceName): TestService {
  const status = inject('ballastServices').find((s) => s.name === name);
  if (!status)
    throw new Error(
      `no probe result for ${name}: is the Ballast globalSetup configured in vitest.config.ts?`,
    );
  if (!status.available) {
    console.warn(`[ballast] skipping ${status.label} suite: ${unreachableMessage(status)}`);
  }
  return { url: status.url, available: status.available, skip: !status.available };
}
