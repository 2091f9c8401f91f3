/**
 * One benchmark contender as its own process: `node --import tsx bench/server.ts <id> <redisUrl>
 * <port> [gatewayUrl gatewayToken]`. Prints `READY <port>`; answers `cpu` IPC messages with its
 * process.cpuUsage() and `idle` once no request is in flight. Routes, the same work for every contender:
 *   GET  /setup        a new session with count = 0 (sets the cookie); `?fields=50` adds
 *                      fields f0..f49 of 16 characters (the many-fields variant)
 *   GET  /read         read `count`
 *   POST /write        read `count`, add 1, write it back
 *   POST /write-get-set the same with get() + set() (this project only)
 *   POST /write-blind  set `count` without reading it (this project only)
 *   POST /many         change one of the 50 fields
 *   POST /login        create an authenticated session (no cookie sent)
 *   POST /logout       end the session (its store entry and cookie)
 *   GET  /me           the signed-in user as the store has it, or null
 */
import { serve } from '@hono/node-server'
import { contenders } from './contenders.js'

const [id, redisUrl, portText, gatewayUrl, gatewayToken] = process.argv.slice(2)
const make = contenders[id as keyof typeof contenders]
if (!make || !redisUrl || !portText) {
  console.error(`usage: server.ts <${Object.keys(contenders).join('|')}> <redisUrl> <port>`)
  process.exit(2)
}
const handler = await make({ redisUrl, gatewayUrl, gatewayToken })
const port = Number(portText)
const server =
  'listen' in handler
    ? handler.listen(port, '127.0.0.1', () => console.log(`READY ${port}`))
    : serve({ fetch: handler.fetch, port, hostname: '127.0.0.1' }, () =>
        console.log(`READY ${port}`),
      )

// Requests still being answered: autocannon stops at its deadline with some in flight, and
// their Redis commands must not land in the next measurement.
let inFlight = 0
const waiting: (() => void)[] = []
server.on('request', (_req: unknown, res: import('node:http').ServerResponse) => {
  inFlight++
  res.once('close', () => {
    if (--inFlight === 0) for (const done of waiting.splice(0)) done()
  })
})
process.on('message', (m) => {
  if (m === 'cpu') process.send!(process.cpuUsage())
  if (m === 'idle') {
    const reply = () => process.send!('idle')
    if (inFlight === 0) reply()
    else waiting.push(reply)
  }
})
process.on('SIGTERM', () => process.exit(0))
