import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // vitest can otherwise load graphql twice ("from another module or realm").
    alias: { graphql: 'graphql/index.js' },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
