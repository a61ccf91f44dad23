import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e files start real servers and real ffmpeg/nginx processes; two at a time keeps a 2-core box responsive
    maxWorkers: 2,
    fileParallelism: true,
  },
});
