/**
 * An Upstash-REST-compatible HTTP gateway over ioredis, so edge code using the official
 * `@upstash/redis` client can reach a self-hosted Redis (standalone, Sentinel or Cluster).
 *
 * | request | answer |
 * |---|---|
 * | `POST /` `["SET","k","v"]` | 200 `{"result":"OK"}`; a Redis error: 400 `{"error":"<Redis text>"}` |
 * | `POST /pipeline` `[[...],[...]]` | 200 `[{"result":...},{"error":"..."}]`, not atomic |
 * | `POST /multi-exec` `[[...],[...]]` | 200 as above, atomic (MULTI/EXEC) |
 * | `GET\|POST\|PUT /get/key`, `/set/key/value` | path form; POST body = last argument |
 * | missing or wrong token | 401 `{"error":"WRONGPASS invalid or missing auth token"}` |
 * | malformed body, refused command | 400 `{"error":"ERR ..."}` (`NOPERM ...` for read-only tokens) |
 * | body over `maxBodyBytes` | 413 `{"error":"ERR ..."}` |
 * | Redis unreachable / no answer in time | 503 / 504 `{"error":"ERR ..."}` |
 * | `POST /subscribe/ch`, `/psubscribe/pat*` | 200 server-sent events (see `subscriptions.ts`) |
 *
 * Every answer past authentication carries `Upstash-Sync-Token` (see `replica-reads.ts`).
 */
import { Hono } from 'hono'
import type { Context, Next } from 'hono'
import type { Cluster, Redis } from 'ioredis'
import { createAuthenticator, UNAUTHORIZED_BODY, type Access } from './auth.js'
import { createCommandPolicy, type CommandPolicy, type GatewayCommand } from './commands.js'
import { entriesJson, replyBytes, resultJson, wantsBase64 } from './encoding.js'
import { createLifecycle, withDeadline } from './lifecycle.js'
import { checkClient, positiveInt, replicaOptions, type GatewayOptions } from './options.js'
import { createReadRouter } from './replica-reads.js'
import { SYNC_TOKEN_HEADER } from './sync-token.js'
import { scriptKiller } from './script-kill.js'
import { serverCommands } from './server-commands.js'
import { createScriptPolicy } from './scripts.js'
import { createSubscriptions } from './subscriptions.js'
import {
  ExecutionProblem,
  isCluster,
  runCommand,
  runPipeline,
  runTransaction,
  type Outcome,
} from './execute.js'
import {
  commandFromPath,
  parseJson,
  readBody,
  RequestProblem,
  toCommand,
  toCommandList,
} from './request.js'

export type { GatewayOptions } from './options.js'

const UNAUTHORIZED_TEXT = JSON.stringify(UNAUTHORIZED_BODY)
/** Methods of the path form (`GET /get/key`); HEAD runs as GET, without the body. */
const PATH_FORM_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT'])
/** What `notFound` hands its handlers as `next`: nothing follows them. */
const NO_NEXT: Next = async () => {}

export interface Gateway {
  app: Hono
  /** Subscription streams open now (each holds one Redis connection of its own). */
  subscribers(): number
  /**
   * Ends every subscription stream, refuses new requests (503) and waits for those in flight,
   * at most `timeoutMs` + 1 s.
   */
  close(): Promise<void>
}

/**
 * Creates the gateway's Hono app. Serve `app.fetch` with any server, or with `listen()` (on
 * @hono/node-server, an optional peer dependency: `npm install @hono/node-server`).
 *
 * @param options.redis - ioredis client (standalone, Sentinel or Cluster), RESP2, `stringNumbers`
 * @param options.tokens - read-write bearer tokens
 * @param options.readOnlyTokens - read-only bearer tokens (default none)
 * @param options.maxBodyBytes - body limit in bytes (default 1 MiB)
 * @param options.maxArrayLength - commands per pipeline and arguments per command (default 1000)
 * @param options.timeoutMs - per-request deadline in milliseconds (default 5000)
 * @param options.scriptPolicy - `registered` (default) or `any`: which Lua scripts may run
 * @param options.scripts - sources of more scripts to register
 * @param options.maxSubscribers - most subscription streams at once (default 1000; 0: none)
 * @param options.readFrom - `primary` (default) or `replicas`: where read-only requests run
 * @param options.replicas - replica clients, for `readFrom: 'replicas'`
 * @example
 * ```ts
 * import { createGateway, listen } from 'hono-redis-session/gateway'
 * import { connectRedis } from 'hono-redis-session/ioredis'
 *
 * const redis = connectRedis({ url: 'redis://127.0.0.1:6379', stringNumbers: true })
 * const gateway = createGateway({ redis, tokens: [process.env.GATEWAY_TOKEN!] })
 * const running = await listen(gateway, { port: 8079 }) // upstashStore({ url: running.url, token })
 * ```
 */
export function createGateway(options: GatewayOptions): Gateway {
  const { redis } = options
  checkClient(redis)
  const auth = createAuthenticator(options)
  const reads = createReadRouter(replicaOptions(options))
  const limits = {
    maxBodyBytes: positiveInt(options.maxBodyBytes, 1024 * 1024, 'maxBodyBytes'),
    maxArrayLength: positiveInt(options.maxArrayLength, 1000, 'maxArrayLength'),
  }
  const timeoutMs = positiveInt(options.timeoutMs, 5000, 'timeoutMs')
  const cluster = isCluster(redis)
  const scripts = createScriptPolicy({ mode: options.scriptPolicy, sources: options.scripts })
  const policy: CommandPolicy = createCommandPolicy({
    ...options,
    cluster,
    maxWaitMs: timeoutMs,
    maxCount: positiveInt(options.maxCount, 10_000, 'maxCount'),
    scripts,
    serverKnows: (name) => server.knows(name),
  })
  const maxReplyBytes = positiveInt(options.maxReplyBytes, 8 * 1024 * 1024, 'maxReplyBytes')
  /** Refuses (400) replies over the limit before they are encoded (JSON would grow them again). */
  const bounded = (outcomes: Outcome[]): Outcome[] => {
    const bytes = outcomes.reduce((n, o) => n + (o.ok ? replyBytes(o.value) : 0), 0)
    if (bytes <= maxReplyBytes) return outcomes
    throw new RequestProblem(
      400,
      `ERR reply too large: ${bytes} bytes, the gateway answers at most ${maxReplyBytes} (GATEWAY_MAX_REPLY_BYTES)`,
    )
  }
  // after every check that may throw: it starts asking Redis and listens to the client
  const server = serverCommands(redis, timeoutMs)
  const killer = scriptKiller(redis)
  /** Requests that run a script or a function: at their deadline it is stopped. */
  const scripted = new WeakMap<Request, Set<'script' | 'function'>>()
  /** The refusal of each command (null: it may run), once the server's commands are known. */
  const vet = async (c: Context, commands: GatewayCommand[], access: Access) => {
    const learning = server.learn(commands)
    if (learning) await learning
    return commands.map((command) => {
      const refusal = policy.check(command, access === 'read-only')
      const runs = refusal === null ? scripts.runs(command) : null
      if (runs) {
        const kinds = scripted.get(c.req.raw) ?? new Set()
        scripted.set(c.req.raw, kinds.add(runs))
        killer.prepare()
      }
      return refusal
    })
  }

  const subscriptions = createSubscriptions({
    redis,
    auth,
    timeoutMs,
    limits,
    maxSubscribers: options.maxSubscribers ?? 1000,
    denyCommands: options.denyCommands,
    syncToken: (c) => {
      reads.settle(c) // nothing ran: the request's token, or the last offset measured
      return reads.tokenOf(c)
    },
  })

  /**
   * An answer: JSON (from `encoding.ts`: integers as their exact digits), never cached, with the
   * request's sync token. The headers are a plain object, which @hono/node-server writes as it
   * is (a `Headers` per request, as `c.header()` makes, cost a tenth of a `GET`'s instructions).
   */
  const answer = (c: Context, status: number, text: string, extra?: Record<string, string>) => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store',
    }
    if (extra) Object.assign(headers, extra)
    const token = reads.tokenOf(c)
    if (token !== undefined) headers[SYNC_TOKEN_HEADER] = token
    return new Response(text, { status, headers })
  }
  const fail = (c: Context, status: number, error: string, extra?: Record<string, string>) =>
    answer(c, status, JSON.stringify({ error }), extra)

  const lifecycle = createLifecycle(timeoutMs + 1000)
  const app = new Hono()
  const { admit } = lifecycle

  /** Admission, authentication, deadline and error mapping around one kind of request. */
  const endpoint = (work: (c: Context, access: Access, base64: boolean) => Promise<Response>) =>
    admit(async function gateway(c: Context): Promise<Response> {
      const access = auth.check(c.req.header('authorization'))
      if (!access) return answer(c, 401, UNAUTHORIZED_TEXT)
      try {
        const base64 = wantsBase64(c.req.header('upstash-encoding'))
        return await withDeadline(work(c, access, base64), timeoutMs)
      } catch (error) {
        if (error instanceof ExecutionProblem && error.status === 504) {
          // a script still running would make Redis answer BUSY to every client
          for (const kind of scripted.get(c.req.raw) ?? []) void killer.kill(kind)
        }
        if (error instanceof RequestProblem || error instanceof ExecutionProblem) {
          reads.settle(c)
          // The rest of an oversized body is never read: the connection cannot be reused.
          const headers = error.status === 413 ? { Connection: 'close' } : undefined
          return fail(c, error.status, error.message, headers)
        }
        throw error
      }
    })

  /** Refuses a command the policy does not allow (400, nothing executed). */
  const allowed = async (c: Context, command: GatewayCommand, access: Access) => {
    const [refusal] = await vet(c, [command], access)
    if (refusal) throw new RequestProblem(400, refusal)
    return command
  }

  const single = async (c: Context, command: GatewayCommand, base64: boolean) => {
    const ran = await reads.run(c, [command], async (client) => [await runCommand(client, command)])
    const [outcome] = bounded(ran) as [Outcome]
    if (!outcome.ok) return fail(c, outcome.status, outcome.error)
    return answer(c, 200, resultJson(outcome.value, base64))
  }

  app.post(
    '/',
    endpoint(async (c, access, base64) => {
      const command = toCommand(parseJson(await readBody(c.req.raw, limits.maxBodyBytes)), limits)
      return single(c, await allowed(c, command, access), base64)
    }),
  )

  app.post(
    '/pipeline',
    endpoint(async (c, access, base64) => {
      const commands = toCommandList(
        parseJson(await readBody(c.req.raw, limits.maxBodyBytes)),
        limits,
      )
      // A refused command fails alone (as an ACL refusal does in Redis); the others run, in order.
      const refusals = await vet(c, commands, access)
      const accepted = commands.filter((_, i) => refusals[i] === null)
      const results = bounded(
        await reads.run(c, accepted, (client) => runPipeline(client, accepted)),
      )
      const outcomes: Outcome[] = refusals.map((refusal) =>
        refusal === null ? results.shift()! : { ok: false, error: refusal, status: 400 },
      )
      // Redis was unreachable for every command: say so with the status, as `/` would.
      const first = outcomes[0]!
      if (!first.ok && outcomes.every((o) => !o.ok && o.status !== 400))
        return fail(c, first.status, first.error)
      return answer(c, 200, entriesJson(outcomes, base64))
    }),
  )

  app.post(
    '/multi-exec',
    endpoint(async (c, access, base64) => {
      const commands = toCommandList(
        parseJson(await readBody(c.req.raw, limits.maxBodyBytes)),
        limits,
      )
      ;(await vet(c, commands, access)).forEach((refusal, i) => {
        if (refusal) {
          throw new RequestProblem(
            400,
            `EXECABORT Transaction discarded: command ${i + 1}: ${refusal}`,
          )
        }
      })
      const outcomes = bounded(
        // no commands offered to a replica: a transaction runs on the primary
        await reads.run(c, [], (client) => runTransaction(client, commands)),
      )
      return answer(c, 200, entriesJson(outcomes, base64))
    }),
  )

  app.on(['GET', 'POST'], '/:verb/*', admit(subscriptions.route))

  // The path form and the 405 answer whatever no route took: as routes on `*` they would match
  // every request, and Hono runs its middleware chain for a request that matches two routes.
  const pathForm = endpoint(async (c, access, base64) => {
    const url = new URL(c.req.url)
    const body = c.req.method === 'GET' ? null : await readBody(c.req.raw, limits.maxBodyBytes)
    if (url.pathname === '/' || url.pathname === '')
      throw new RequestProblem(400, 'ERR no command given')
    return single(c, await allowed(c, commandFromPath(url, body, limits), access), base64)
  })
  const notAllowed = admit((c) =>
    c.json({ error: 'ERR method not allowed: use GET, POST or PUT' }, 405, {
      Allow: 'GET, HEAD, POST, PUT',
    }),
  )
  app.notFound((c) => (PATH_FORM_METHODS.has(c.req.method) ? pathForm : notAllowed)(c, NO_NEXT))

  app.onError((error, c) => {
    console.error('[gateway] unexpected error:', error)
    return fail(c, 500, 'ERR internal gateway error')
  })

  return {
    app,
    subscribers: subscriptions.count,
    async close() {
      subscriptions.close()
      await lifecycle.close()
      killer.close()
      server.close()
    },
  }
}
