import { defineConfig } from 'vitest/config'

/** Two projects: Node (stores against real redis-server processes) and workerd. */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'node',
          include: ['test/**/*.test.ts'],
          exclude: ['test/workerd/**', 'node_modules/**'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
      './vitest.workers.config.ts',
    ],
  },
})
