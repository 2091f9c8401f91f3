/**
 * Started by `global-setup.ts` as a plain Node process (outside the Worker pool's module
 * resolution): a real redis-server with the gateway in front of it, a 3+3 Cluster with a second
 * gateway, and the demo app on Node sharing the first Redis (the scaling test's other instance).
 * Prints one JSON line with their URLs, then runs until SIGTERM.
 */
import { serve } from '@hono/node-server'
import { createDemoApp } from '../../demo/app.js'
import { ioredisStore } from '../../src/store/ioredis.js'
import { startGateway } from '../helpers/gateway.js'
import { freePort, startCluster, startRedis, stopAll } from '../helpers/redis.js'

/** The key ring the Worker under test and the Node instance share. */
const SESSION_KEYS = `wk:${'V29ya2VyS2V5V29ya2VyS2V5V29ya2VyS2V5V29ya2V'}`

const [server, cluster] = await Promise.all([startRedis(), startCluster()])
const [gateway, clusterGateway] = await Promise.all([
  startGateway({ url: server.url }),
  startGateway({ cluster: cluster.startupNodes }),
])
const store = ioredisStore({ url: server.url })
const port = await freePort()
const demo = createDemoApp({
  store,
  keys: [{ kid: 'wk', secret: SESSION_KEYS.slice(3) }],
  insecureLocalhost: true,
})
const node = serve({ fetch: demo.fetch, port, hostname: '127.0.0.1' })

console.log(
  JSON.stringify({
    url: gateway.url,
    token: gateway.token,
    clusterUrl: clusterGateway.url,
    nodeDemoUrl: `http://127.0.0.1:${port}`,
    sessionKeys: SESSION_KEYS,
  }),
)

process.once('SIGTERM', async () => {
  node.close()
  await store.close()
  await Promise.all([gateway.close(), clusterGateway.close()])
  await stopAll()
  process.exit(0)
})
