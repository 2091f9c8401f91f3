/**
 * Started by `global-setup.ts` as a plain Node process (outside the Worker pool's module
 * resolution): a real redis-server and the gateway on loopback. Prints one JSON line with the
 * gateway's URL and token, then runs until SIGTERM.
 */
import { startGateway } from '../helpers/gateway.js'
import { startRedis, stopAll } from '../helpers/redis.js'

const server = await startRedis()
const gateway = await startGateway({ url: server.url })
console.log(JSON.stringify({ url: gateway.url, token: gateway.token }))

process.once('SIGTERM', async () => {
  await gateway.close()
  await stopAll()
  process.exit(0)
})
