import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

/** Tests that run inside workerd: the Worker itself and the edge stores. */
export default defineConfig({
  plugins: [cloudflareTest({ wrangler: { configPath: './wrangler.toml' } })],
  test: {
    name: 'workerd',
    include: ['test/workerd/**/*.test.ts'],
    // Node side: a real redis-server and the gateway the workerd tests fetch on 127.0.0.1.
    globalSetup: ['./test/workerd/global-setup.ts'],
    testTimeout: 30_000,
  },
})
