import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // one log for the run, scanned for secrets at the end
    globalSetup: ['tests/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // the real CLI tests spawn processes; two cores are shared by everything
    maxWorkers: 2,
    pool: 'forks',
  },
});
