/**
 * `npm run bench:capacity`: the figures capacity planning is computed from (docs/operations.md,
 * "Capacity planning"), measured on a local redis-server through the ioredis store:
 * - per store operation (a plain read, the same read through the load script as the default
 *   store makes it, a read that extends, an increment, a field write, a login, a logout): the
 *   Redis server's own time per call (INFO commandstats, which leaves out network I/O) and
 *   its whole process CPU per call (INFO cpu, I/O included), plus the commands Redis ran per
 *   call (a script counts itself and each command it runs; every operation is one round trip,
 *   as test/demo/redis.test.ts counts on the wire);
 * - bytes per session (MEMORY USAGE) for a counter-only session and one with 50 fields of 16
 *   characters, and per user index member.
 * Calls go 10 at a time (the steady state of a busy app). Redis time per call is steady
 * across runs; process CPU moves with the machine's load, so run it on a quiet machine.
 */
import { Redis } from 'ioredis'
import { ioredisStore } from '../src/store/ioredis.js'
import type { SessionKey, StoredSession } from '../src/store/types.js'
import { startRedis, stopAll } from '../test/helpers/redis.js'
import { parseCommandStats, totalCalls, usecOfRequests } from './redis-cost.js'

const CALLS = Number(process.argv[2] ?? 20_000)
const PARALLEL = 10
const IDLE = 86_400_000
const PREFIX = 'cap:'

const server = await startRedis()
const raw = new Redis({ port: server.port, host: server.host })
const store = ioredisStore({ url: server.url, prefix: PREFIX, plainReads: true })
// the default store: every read runs the load script
const scripted = ioredisStore({ url: server.url, prefix: PREFIX })
let seq = 0
const newId = () => `${(seq++).toString(36)}`.padStart(43, 'c')
const now = Date.now()
const session = (uid?: string, fields: Record<string, string> = { count: '0' }): StoredSession => ({
  fields,
  meta: {
    createdAt: now,
    lastSeenAt: now,
    expiresAt: now + IDLE,
    absoluteExpiresAt: Math.floor((now + 7 * IDLE) / 1000) * 1000,
    uid,
  },
})

/**
 * Server time, process CPU and commands spent on `calls` calls of `op` (after a warm-up);
 * `sends` is the one command the store sends per call (a script's entry includes the time of
 * the commands it runs: see bench/redis-cost.ts).
 */
async function measure(
  name: string,
  sends: string,
  op: (i: number) => Promise<unknown>,
  calls = CALLS,
) {
  for (let i = 0; i < 200; i++) await op(i) // scripts loaded, JIT warm
  await raw.call('CONFIG', 'RESETSTAT')
  const cpu = async () => {
    const info = String(await raw.call('INFO', 'cpu'))
    const field = (f: string) => Number(new RegExp(`^${f}:([\\d.]+)`, 'm').exec(info)![1])
    return field('used_cpu_user') + field('used_cpu_sys')
  }
  const before = await cpu()
  let next = 200
  await Promise.all(
    Array.from({ length: PARALLEL }, async () => {
      while (next < calls + 200) await op(next++)
    }),
  )
  const processUs = ((await cpu()) - before) * 1e6
  const stats = parseCommandStats(String(await raw.call('INFO', 'commandstats')))
  const usec = usecOfRequests(stats, new Map([[sends, 1]]), calls)
  const commands = totalCalls(stats) // a script counts itself and every command it runs
  const per = (n: number) => Math.round((n / calls) * 100) / 100
  return {
    operation: name,
    redisUsecPerCall: per(usec),
    redisProcessUsecPerCall: per(processUs),
    commandsPerCall: per(commands),
  }
}

const users = (i: number) => `user-${i % 1000}`
const keys: SessionKey[] = []
for (let i = 0; i < 1000; i++) {
  const key = { id: newId(), uid: users(i) }
  await store.create(key, session(key.uid), { now })
  keys.push(key)
}
const pick = (i: number) => keys[i % keys.length]!
// this store created them: it knows their deadlines, so a read that cannot extend skips the script
const plain = { now, extendIfBefore: now, extendTo: now + IDLE }
const LOGIN = 'login (create, replacing the anonymous session)'
const rows = [
  await measure('read, no extension due (plainReads: one HGETALL)', 'hgetall', (i) =>
    store.load(pick(i), plain),
  ),
  await measure('read, no extension due (the load script, the default)', 'evalsha', (i) =>
    scripted.load(pick(i), plain),
  ),
  await measure('read that extends', 'evalsha', (i) =>
    store.load(pick(i), { now, extendIfBefore: now + 2 * IDLE, extendTo: now + IDLE + i }),
  ),
  await measure('write: increment()', 'evalsha', (i) =>
    store.load(pick(i), { ...plain, increment: { field: 'count', by: 1 } }),
  ),
  await measure('write: set() of one field', 'evalsha', (i) =>
    store.commit(pick(i), { set: { count: String(i) }, del: [] }, plain),
  ),
  await measure(
    LOGIN,
    'evalsha',
    async (i) => {
      const anonymous = { id: newId() }
      await raw.hset(PREFIX + anonymous.id, '$e', String(now + IDLE), '$a', String(now + IDLE))
      const key = { id: newId(), uid: users(i) }
      await store.create(key, session(key.uid), { now, replace: anonymous })
      keys.push(key)
    },
    CALLS / 4,
  ),
  await measure(
    'logout (destroy)',
    'evalsha',
    async () => {
      const key = keys.pop()!
      await store.destroy(key)
    },
    CALLS / 4,
  ),
]
// the anonymous session each login replaces was written with one HSET outside the store
const login = rows.find((r) => r.operation === LOGIN)!
login.commandsPerCall = Math.round((login.commandsPerCall - 1) * 100) / 100

const usage = async (key: string) => Number(await raw.call('MEMORY', 'USAGE', key, 'SAMPLES', '0'))
const counter = { id: newId() }
await store.create(counter, session(), { now })
const fifty = { id: newId() }
const fields = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`f${i}`, 'x'.repeat(16)]))
await store.create(fifty, session(undefined, fields), { now })
const signedIn = { id: newId(), uid: 'sizing-user' }
await store.create(signedIn, session('sizing-user'), { now })
const oneMember = await usage(`${PREFIX}{sizing-user}`)
const second = { id: newId(), uid: 'sizing-user' }
await store.create(second, session('sizing-user'), { now })
const bytes = {
  counterOnlySession: await usage(PREFIX + counter.id),
  fiftyFieldSession: await usage(PREFIX + fifty.id),
  signedInSession: await usage(`${PREFIX}{sizing-user}:${signedIn.id}`),
  userIndexWithOneSession: oneMember,
  userIndexPerMoreSession: (await usage(`${PREFIX}{sizing-user}`)) - oneMember,
}
const version = /^redis_version:(.+)$/m.exec(String(await raw.call('INFO', 'server')))![1]!.trim()

console.log(`Redis ${version}, ${CALLS} calls per operation, ${PARALLEL} at a time\n`)
console.log(
  '| operation (one round trip each) | Redis µs/call (commandstats) | Redis process CPU µs/call (with I/O) | commands Redis ran |',
)
console.log('| --- | ---: | ---: | ---: |')
for (const r of rows)
  console.log(
    `| ${r.operation} | ${r.redisUsecPerCall} | ${r.redisProcessUsecPerCall} | ${r.commandsPerCall} |`,
  )
console.log('\nbytes (MEMORY USAGE):', JSON.stringify(bytes))
raw.disconnect()
await store.close?.()
await scripted.close?.()
await stopAll()
