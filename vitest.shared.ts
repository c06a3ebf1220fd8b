import { defineConfig } from 'vitest/config';

/**
 * Shared vitest settings for every package: resolve sibling `@csq/*` packages from source
 * (the `@csq/source` export condition), so tests never need a build first.
 */
export default defineConfig({
  resolve: { conditions: ['@csq/source'] },
  ssr: { resolve: { conditions: ['@csq/source'], externalConditions: ['@csq/source'] } },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
