/**
 * The Redis-backed {@link Store} operations that are the same for every transport (ioredis over
 * TCP, Upstash REST over HTTP), each one script call of `./<operation>.ts`, and the one timeout
 * layer and error mapping of every call.
 */
import { SessionError, StoreError, StoreTimeoutError, withTimeout } from '../../errors.js'
import type { CreateOptions, SessionKey, Store, StoredSession } from '../types.js'
import { claim } from './claim.js'
import { PoisonedSessionError } from './codec.js'
import { commit } from './commit.js'
import { create } from './create.js'
import { destroyUser } from './destroy-user.js'
import { destroy } from './destroy.js'
import type { PlainReader } from './fast-read.js'
import { hit } from './hit.js'
import { sessionKeys } from './layout.js'
import { listUser } from './list-user.js'
import { load } from './load.js'
import { run } from './operation.js'
import { rateHit } from './rate-hit.js'
import { rotate } from './rotate.js'
import type { ScriptExec } from './runner.js'
import { updateUser } from './update-user.js'
import { getUserValue, setUserValue } from './user-value.js'

/** Options of {@link redisScriptStore}. */
export interface RedisScriptStoreOptions {
  /** Sends one script call. */
  exec: ScriptExec
  /** Key prefix, already checked with `assertPrefix`. */
  prefix: string
  /**
   * Whether two keys can be used by one script: always on a single server; on Cluster only
   * when they hash to one slot. Default: always.
   */
  colocated?: (a: string, b: string) => boolean
  /**
   * Reads without a script when no extension can be due (`plainReader` of `fast-read.ts`, over
   * one `HGETALL`). Without it, every read runs the load script.
   */
  plain?: PlainReader
}

/**
 * The Redis-backed {@link Store} operations that are the same for every transport. `ping` and
 * `close` are the transport's own.
 */
export function redisScriptStore(options: RedisScriptStoreOptions): Omit<Store, 'ping' | 'close'> {
  const { exec, prefix, colocated = () => true, plain } = options
  // the plain reader learns every idle deadline this store reports (a lower bound of the next)
  const remember = (id: string, deadline: number | undefined) => plain?.saw(id, deadline)
  return {
    async load(key, o) {
      const plainly = plain?.read(key, o)
      if (plainly !== undefined && plainly !== 'script') {
        const answer = await plainly
        if (answer !== 'script') return answer
      }
      const result = await run(exec, prefix, load, key, o)
      const live = result && 'session' in result && !o.consume
      remember(key.id, live ? result.session.meta.expiresAt : undefined)
      return result
    },
    async commit(key, patch, o) {
      const result = await run(exec, prefix, commit, key, patch, o)
      remember(key.id, result && 'expiresAt' in result ? result.expiresAt : undefined)
      return result
    },
    async rotate(from, to, patch, o) {
      remember(from.id, undefined)
      const result = await run(exec, prefix, rotate, from, to, patch, o)
      if (result && 'expiresAt' in result) remember(to.id, result.expiresAt)
      return result
    },
    async create(key: SessionKey, session: StoredSession, o: CreateOptions) {
      // the replaced entry goes in the same step when it shares the slot, else right after
      const first = sessionKeys(prefix, key)[0]!
      const together =
        o.replace !== undefined && sessionKeys(prefix, o.replace).every((k) => colocated(first, k))
      const replace = together ? o.replace : undefined
      const evicted = await run(exec, prefix, create, key, session, o, replace)
      remember(key.id, session.meta.expiresAt)
      if (o.replace && !together) await run(exec, prefix, destroy, o.replace, undefined)
      return { evicted }
    },
    destroy(key, actor) {
      remember(key.id, undefined)
      return run(exec, prefix, destroy, key, actor)
    },
    destroyUser: (uid, now, o = {}) => run(exec, prefix, destroyUser, uid, now, o),
    listUser: (uid, now, actor) => run(exec, prefix, listUser, uid, now, actor),
    updateUser: (uid, change, now, actor) => run(exec, prefix, updateUser, uid, change, now, actor),
    hit: (uid, name, o) => run(exec, prefix, hit, uid, name, o),
    rateHit: (key, o) => run(exec, prefix, rateHit, key, o),
    claim: (uid, name, ttlMs, actor) => run(exec, prefix, claim, uid, name, ttlMs, actor),
    getUserValue: (uid, name, actor) => run(exec, prefix, getUserValue, uid, name, actor),
    setUserValue: (uid, name, value, actor) =>
      run(exec, prefix, setUserValue, uid, name, value, actor),
  }
}

/** The store operations that write sessions (WAIT-able, with their own longer bound). */
const WRITES = new Set(['create', 'destroy', 'destroyUser', 'setUserValue'])

/**
 * Bounds every operation of a script store: each call rejects within `timeoutMs` (`writeMs`
 * for the writes that may also wait for replicas), and every failure becomes a typed error
 * whose text never carries session data.
 */
export function boundedStore(
  core: Omit<Store, 'ping' | 'close'>,
  name: string,
  timeoutMs: number,
  writeMs = timeoutMs,
): Omit<Store, 'ping' | 'close'> {
  const out: Record<string, unknown> = {}
  for (const [op, fn] of Object.entries(core) as [
    string,
    (...a: unknown[]) => Promise<unknown>,
  ][]) {
    const ms = WRITES.has(op) ? writeMs : timeoutMs
    out[op] = (...args: unknown[]) => bounded(name, op, ms, () => fn(...args))
  }
  return out as Omit<Store, 'ping' | 'close'>
}

/** Runs one store call under a deadline, mapping failures with {@link storeError}. */
export function bounded<T>(name: string, op: string, ms: number, fn: () => Promise<T>): Promise<T> {
  return withTimeout(fn(), ms, `${name} ${op}`, (err) => storeError(name, op, err))
}

/**
 * Maps any failure to a typed error. Typed session errors pass through; everything else becomes
 * a {@link StoreError} whose cause keeps only the error's name and first line, cut before any
 * echo of the command (clients put the command's arguments, i.e. session data, in messages).
 */
export function storeError(name: string, op: string, err: unknown): Error {
  if (err instanceof SessionError || err instanceof PoisonedSessionError) return err
  const message = err instanceof Error ? err.message : String(err)
  const cause = new Error(firstLine(message))
  cause.name = err instanceof Error ? err.name : 'Error'
  if (/timed? ?out|aborted|TimeoutError/i.test(`${cause.name} ${message}`)) {
    return new StoreTimeoutError(`${name} ${op} timed out`, { cause })
  }
  return new StoreError(`${name} ${op} failed`, { cause })
}

/** The first line of an error text, without a trailing echo of the command, at most 200 chars. */
export function firstLine(message: string): string {
  return message.split('\n', 1)[0]!.split(', command was:', 1)[0]!.slice(0, 200)
}
