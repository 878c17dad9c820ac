import { defineConfig } from 'vitest/config';

// One runner for the whole repository. Workspace packages resolve to their TypeScript sources through the
// `@ballast/source` export condition, so tests never need a build and always run the code in the tree.
const conditions = ['@ballast/source', 'node', 'development|production'];

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: [
      'packages/*/test/**/*.test.ts',
      'examples/*/test/**/*.test.ts',
      'scripts/test/**/*.test.ts',
      'scripts/consumer/**/*.test.ts',
    ],
    globalSetup: ['packages/testkit/src/global-setup.ts'],
    reporters: ['default', './packages/testkit/src/summary-reporter.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores: keep parallel workers to what the machine can run without starving the services under test.
    maxWorkers: 2,
  },
});
