/**
 * The parts both Redis stores share: the script runner (EVALSHA with a fallback to EVAL on
 * NOSCRIPT), the key and argument layout of every script call, and the decoding of the
 * scripts' replies. Free of Node built-ins (SHA-1 comes from WebCrypto), so the edge store can
 * reuse it: a store only supplies a {@link ScriptExec} that sends one EVALSHA or EVAL.
 */
import {
  SessionError,
  SessionLimitError,
  SessionRequiredError,
  StoreError,
  StoreTimeoutError,
  withTimeout,
} from '../errors.js'
import { encodeMeta, decodeSession, FLASH_PREFIX, PoisonedSessionError } from './codec.js'
import { sessionKeyName, userIndexKeyName, userItemKeyName } from './keys.js'
import {
  EXISTS,
  NOT_LIVE,
  POISONED,
  SCRIPTS,
  SUMMARY_FIELDS,
  TOO_LARGE,
  type LuaScript,
} from './scripts.js'
import {
  RESERVED_PREFIX,
  USER_ITEM_NAME,
  type Actor,
  type CommitOptions,
  type CommitResult,
  type CreateOptions,
  type CreateResult,
  type DestroyUserOptions,
  type HitOptions,
  type HitResult,
  type LoadOptions,
  type LoadResult,
  type MovedResult,
  type RotateOptions,
  type SessionKey,
  type SessionPatch,
  type SessionSummary,
  type Store,
  type StoredSession,
  type UserChange,
} from './types.js'

/** One script call as the transport sends it. */
export interface ScriptCall {
  script: LuaScript
  /** SHA-1 of `script.source`, lowercase hex. */
  sha: string
  /** `true`: send EVALSHA sha; `false`: send EVAL source (after a NOSCRIPT). */
  bySha: boolean
  keys: string[]
  args: string[]
  /** The call deletes or creates sessions: a store with a durability setting WAITs after it. */
  durable: boolean
}

/** Sends one EVALSHA or EVAL and resolves with the raw reply (rejects with the raw error). */
export type ScriptExec = (call: ScriptCall) => Promise<unknown>

const shas = new Map<LuaScript, Promise<string>>()
/** The digests already computed, for calls that should not wait even a microtask for them. */
const knownShas = new Map<LuaScript, string>()

/** SHA-1 of a script's source (hex), computed once per process with WebCrypto. */
export function scriptSha(script: LuaScript): Promise<string> {
  let sha = shas.get(script)
  if (!sha) {
    sha = crypto.subtle.digest('SHA-1', new TextEncoder().encode(script.source)).then((buf) => {
      const hex = Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, '0')).join('')
      knownShas.set(script, hex)
      return hex
    })
    shas.set(script, sha)
  }
  return sha
}

/** True for Redis's "NOSCRIPT No matching script" reply, whatever the client wraps it in. */
export function isNoScript(err: unknown): boolean {
  const message = err instanceof Error ? err.message : typeof err === 'string' ? err : ''
  return /\bNOSCRIPT\b/.test(message)
}

/**
 * Runs a script: EVALSHA first, EVAL when the server's script cache lacks it (restart,
 * failover, SCRIPT FLUSH). One round trip normally, two right after a cache flush.
 */
export async function runScript(
  exec: ScriptExec,
  script: LuaScript,
  keys: string[],
  args: string[],
  durable = false,
): Promise<unknown> {
  const call: ScriptCall = {
    script,
    sha: knownShas.get(script) ?? (await scriptSha(script)),
    bySha: true,
    keys,
    args,
    durable,
  }
  try {
    return await exec(call)
  } catch (err) {
    if (!isNoScript(err)) throw err
    return exec({ ...call, bySha: false })
  }
}

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
}

/**
 * The Redis-backed {@link Store} operations that are the same for every transport. `ping` and
 * `close` are the transport's own.
 */
export function redisScriptStore(options: RedisScriptStoreOptions): Omit<Store, 'ping' | 'close'> {
  const { exec, prefix, colocated = () => true } = options
  const run = (script: LuaScript, keys: string[], args: string[], durable = false) =>
    runScript(exec, script, keys, args, durable)
  const keysOf = (key: SessionKey): string[] =>
    key.uid === undefined
      ? [sessionKeyName(prefix, key)]
      : [sessionKeyName(prefix, key), userIndexKeyName(prefix, key.uid)]

  /** The key of the acting session (the user's slot), for the scripts' liveness check. */
  const actorKeys = (uid: string, actor: Actor | undefined): string[] =>
    actor === undefined ? [] : [sessionKeyName(prefix, { id: actor.id, uid })]
  const actorNow = (actor: Actor | undefined) => (actor === undefined ? '' : int(actor.now))

  async function destroy(key: SessionKey, actor?: Actor): Promise<void> {
    const keys = keysOf(key)
    if (actor !== undefined && key.uid !== undefined) keys.push(...actorKeys(key.uid, actor))
    live(await run(SCRIPTS.destroy, keys, [key.id, actorNow(actor)], true))
  }

  return {
    destroy,

    async load(key: SessionKey, o: LoadOptions): Promise<LoadResult | MovedResult | null> {
      const args = [
        int(o.now),
        int(o.extendIfBefore),
        int(o.extendTo),
        o.consume ? '1' : '0',
        key.id,
      ]
      if (o.increment) {
        checkField(o.increment.field)
        args.push(o.increment.field, int(o.increment.by), optionalInt(o.maxDataBytes))
      }
      const reply = await run(SCRIPTS.load, keysOf(key), args)
      if (reply === null || reply === undefined) return null
      if (reply === POISONED)
        throw new PoisonedSessionError('session entry is not a valid session hash')
      if (reply === TOO_LARGE) throw tooLarge(o.maxDataBytes)
      if (Array.isArray(reply) && reply[0] === 'moved') return { movedTo: str(reply[1]) }
      // a live session comes as one JSON text: [flags, field, value, ...]
      const flat = jsonList(reply, 'load')
      const session = decodeSession(flat, 1)
      const bits = Number(flat[0])
      return bits & 2
        ? { session, extended: (bits & 1) === 1, incrementRefused: true }
        : { session, extended: (bits & 1) === 1 }
    },

    async create(key: SessionKey, session: StoredSession, o: CreateOptions): Promise<CreateResult> {
      for (const name of Object.keys(session.fields)) checkField(name)
      const keys = keysOf(key)
      const pairs = Object.entries({ ...session.fields, ...encodeMeta(session.meta) }).flat()
      let replaceMode = '0'
      let separate: SessionKey | undefined
      if (o.replace) {
        const rKeys = keysOf(o.replace)
        if (rKeys.every((k) => colocated(keys[0]!, k))) {
          keys.push(...rKeys)
          replaceMode = String(rKeys.length)
        } else {
          separate = o.replace
        }
      }
      const max = o.maxSessionsPerUser && o.maxSessionsPerUser > 0 ? o.maxSessionsPerUser : 0
      const args = [
        int(o.now),
        key.id,
        key.uid === undefined ? '0' : '1',
        int(max),
        replaceMode,
        o.replace?.id ?? '',
        int(session.meta.expiresAt),
        ...pairs,
      ]
      const reply = await run(SCRIPTS.create, keys, args, true)
      if (reply === EXISTS) throw new StoreError('session id collision: the key already exists')
      const evicted = list(reply, 'create').map(str)
      if (separate) await destroy(separate)
      return { evicted }
    },

    async commit(
      key: SessionKey,
      patch: SessionPatch,
      o: CommitOptions,
    ): Promise<CommitResult | MovedResult | null> {
      for (const name of Object.keys(patch.set)) checkField(name)
      for (const name of patch.del) checkField(name)
      const { expiresAt, lastSeenAt: _ignored, ...meta } = patch.meta ?? {}
      const pairs = Object.entries({ ...patch.set, ...encodeMeta(meta) }).flat()
      const args = [
        int(o.now),
        int(o.extendIfBefore),
        int(o.extendTo),
        key.id,
        expiresAt === undefined ? '' : int(expiresAt),
        String(pairs.length),
        optionalInt(o.maxDataBytes),
        ...pairs,
        ...patch.del,
      ]
      const reply = await run(SCRIPTS.commit, keysOf(key), args)
      if (reply === TOO_LARGE) throw tooLarge(o.maxDataBytes)
      return commitResult(reply, 'commit')
    },

    async rotate(from: SessionKey, to: SessionKey, patch: SessionPatch, o: RotateOptions) {
      if (from.uid === undefined || from.uid !== to.uid) {
        throw new StoreError('rotate() moves an authenticated session within its user')
      }
      for (const name of Object.keys(patch.set)) checkField(name)
      for (const name of patch.del) checkField(name)
      const pairs = Object.entries(patch.set).flat()
      const keys = [
        sessionKeyName(prefix, from),
        sessionKeyName(prefix, to),
        userIndexKeyName(prefix, from.uid),
      ]
      const args = [
        int(o.now),
        int(o.extendIfBefore),
        int(o.extendTo),
        from.id,
        to.id,
        int(o.graceMs),
        String(pairs.length),
        optionalInt(o.maxDataBytes),
        ...pairs,
        ...patch.del,
      ]
      const reply = await run(SCRIPTS.rotate, keys, args)
      if (reply === EXISTS) throw new StoreError('session id collision: the key already exists')
      if (reply === TOO_LARGE) throw tooLarge(o.maxDataBytes)
      return commitResult(reply, 'rotate')
    },

    async updateUser(uid: string, change: UserChange, now: number, actor?: Actor) {
      const args = [
        int(now),
        change.roles === undefined ? '' : JSON.stringify(change.roles),
        change.revokeMethods?.length ? JSON.stringify(change.revokeMethods) : '',
        change.except ?? '',
      ]
      const keys = [userIndexKeyName(prefix, uid), ...actorKeys(uid, actor)]
      return integer(live(await run(SCRIPTS.updateUser, keys, args)), 'updateUser')
    },

    async hit(uid: string, name: string, o: HitOptions): Promise<HitResult> {
      const keys = [item(uid, 'h', name), ...actorKeys(uid, o.actor)]
      const args = [int(o.windowMs), int(o.by ?? 1), optionalInt(o.limit), actorNow(o.actor)]
      const [count, allowed, resetMs] = list(live(await run(SCRIPTS.hit, keys, args)), 'hit')
      return {
        count: integer(count, 'hit'),
        allowed: integer(allowed, 'hit') === 1,
        resetMs: integer(resetMs, 'hit'),
      }
    },

    async claim(uid: string, name: string, ttlMs: number, actor?: Actor): Promise<boolean> {
      const keys = [item(uid, 'c', name), ...actorKeys(uid, actor)]
      const reply = live(await run(SCRIPTS.claim, keys, [int(ttlMs), actorNow(actor)]))
      return integer(reply, 'claim') === 1
    },

    async getUserValue(uid: string, name: string, actor?: Actor): Promise<string | null> {
      const keys = [item(uid, 'v', name), ...actorKeys(uid, actor)]
      const reply = live(await run(SCRIPTS.userValue, keys, ['get', actorNow(actor)]))
      return reply === null || reply === undefined || reply === false ? null : str(reply)
    },

    async setUserValue(uid: string, name: string, value: string | null, actor?: Actor) {
      const keys = [item(uid, 'v', name), ...actorKeys(uid, actor)]
      const args = value === null ? ['del', actorNow(actor)] : ['set', actorNow(actor), value]
      live(await run(SCRIPTS.userValue, keys, args, true))
    },

    async destroyUser(uid: string, now: number, o: DestroyUserOptions = {}): Promise<number> {
      const keys = [userIndexKeyName(prefix, uid), ...actorKeys(uid, o.actor)]
      const reply = await run(SCRIPTS.destroyUser, keys, [int(now), o.except ?? ''], true)
      return integer(live(reply), 'destroyUser')
    },

    async listUser(uid: string, now: number, actor?: Actor): Promise<SessionSummary[]> {
      const keys = [userIndexKeyName(prefix, uid), ...actorKeys(uid, actor)]
      const flat = list(live(await run(SCRIPTS.listUser, keys, [int(now)])), 'listUser')
      return decodeSummaries(flat)
    },
  }

  function item(uid: string, kind: 'h' | 'c' | 'v', name: string): string {
    if (!USER_ITEM_NAME.test(name)) throw new StoreError('invalid per-user item name')
    return userItemKeyName(prefix, uid, kind, name)
  }
}

/**
 * A per-user script's reply, unless it says the acting session is not live ({@link NOT_LIVE},
 * bare or, from `userValue`, wrapped in a table).
 */
function live(reply: unknown): unknown {
  if (reply === NOT_LIVE || (Array.isArray(reply) && reply.length === 1 && reply[0] === NOT_LIVE))
    throw new SessionRequiredError()
  return reply
}

function tooLarge(max: number | undefined): SessionLimitError {
  return new SessionLimitError(`session data exceeds ${max} bytes`)
}

/** Decodes a commit-shaped reply: nil (gone), poisoned, moved, or `[expiresAt, extended]`. */
function commitResult(reply: unknown, op: string): CommitResult | MovedResult | null {
  if (reply === null || reply === undefined) return null
  if (reply === POISONED)
    throw new PoisonedSessionError('session entry is not a valid session hash')
  const [e, extended] = list(reply, op)
  if (e === 'moved') return { movedTo: str(extended) }
  return { expiresAt: integer(e, op), extended: Number(extended) === 1 }
}

/** Decodes `listUser`'s flat 8-tuples; entries whose metadata will not decode are skipped. */
export function decodeSummaries(flat: readonly unknown[]): SessionSummary[] {
  const width = 1 + SUMMARY_FIELDS.length
  const out: SessionSummary[] = []
  for (let i = 0; i + width <= flat.length; i += width) {
    const id = str(flat[i])
    const hash: Record<string, string> = {}
    SUMMARY_FIELDS.forEach((field, j) => {
      const v = flat[i + 1 + j]
      if (v !== null && v !== undefined && v !== false) hash[field] = str(v)
    })
    try {
      const { meta } = decodeSession(hash)
      out.push({
        id,
        createdAt: meta.createdAt,
        lastSeenAt: meta.lastSeenAt,
        expiresAt: meta.expiresAt,
        authTime: meta.authTime,
        amr: meta.amr,
        client: meta.client,
        ...(meta.revokedMethods && { revokedMethods: meta.revokedMethods }),
      })
    } catch (err) {
      if (!(err instanceof PoisonedSessionError)) throw err
    }
  }
  return out.sort((a, b) => a.expiresAt - b.expiresAt)
}

/** A data field name the scripts may write: not reserved, except flash fields. */
function checkField(name: string): void {
  if (name.length === 0 || (name.startsWith(RESERVED_PREFIX) && !name.startsWith(FLASH_PREFIX))) {
    throw new SessionLimitError('session field names must not be empty or start with "$"', 400)
  }
}

/** An optional integer argument: '' when absent. */
function optionalInt(n: number | undefined): string {
  return n === undefined ? '' : int(n)
}

/** An integer argument as Redis text (epoch milliseconds keep every digit). */
function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new StoreError('store argument is not a safe integer')
  return String(n)
}

function list(reply: unknown, op: string): unknown[] {
  if (!Array.isArray(reply)) throw new StoreError(`unexpected reply from the ${op} script`)
  return reply
}

/** A flat array sent as one JSON text (see `jsonArray` in scripts.ts). */
function jsonList(reply: unknown, op: string): unknown[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(str(reply))
  } catch {
    throw new StoreError(`unexpected reply from the ${op} script`)
  }
  return list(parsed, op)
}

function str(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'bigint') return String(v)
  if (v instanceof Uint8Array) return new TextDecoder().decode(v)
  throw new PoisonedSessionError('session entry holds a value that is not a string')
}

function integer(v: unknown, op: string): number {
  const n =
    typeof v === 'number' ? v : typeof v === 'string' && /^-?\d{1,16}$/.test(v) ? Number(v) : NaN
  if (!Number.isSafeInteger(n)) throw new StoreError(`unexpected reply from the ${op} script`)
  return n
}

/** The Redis Cluster slot of a key (CRC16/XMODEM of the hash tag or the whole key, mod 16384). */
export function keySlot(key: string): number {
  const bytes = new TextEncoder().encode(key)
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b)
  if (open >= 0) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++) {
    crc ^= bytes[i]! << 8
    for (let b = 0; b < 8; b++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
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
