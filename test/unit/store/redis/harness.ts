/**
 * One real redis-server per test file and a plain exec for the operations: EVALSHA / EVAL on
 * an ioredis client, so each operation's layout and decoder meet real replies.
 */
import { Redis } from 'ioredis'
import { afterAll, beforeAll } from 'vitest'
import type { SessionKey, SessionMeta, StoredSession } from '../../../../src/store/types.js'
import { ioredisExec } from '../../../../src/store/ioredis.js'
import { create } from '../../../../src/store/redis/create.js'
import { run, type Operation } from '../../../../src/store/redis/operation.js'
import type { ScriptExec } from '../../../../src/store/redis/runner.js'
import { startRedis, stopAll } from '../../../helpers/redis.js'

export const PREFIX = 'unit:'

export function redisHarness() {
  const h = {
    raw: undefined as unknown as Redis,
    exec: undefined as unknown as ScriptExec,
    /** Runs an operation against the file's server. */
    run<I extends unknown[], O>(op: Operation<I, O>, ...input: I): Promise<O> {
      return run(h.exec, PREFIX, op, ...input)
    },
    /** Writes a session with `create` (its own test checks create). */
    async put(key: SessionKey, now: number, fields: Record<string, string> = {}, meta = {}) {
      await h.run(create, key, session(now, { uid: key.uid, ...meta }, fields), { now }, undefined)
    },
  }
  beforeAll(async () => {
    const server = await startRedis()
    h.raw = new Redis({ port: server.port, host: server.host })
    h.exec = ioredisExec(h.raw)
  })
  afterAll(async () => {
    h.raw.disconnect()
    await stopAll()
  })
  return h
}

export const IDLE = 10 * 60_000
let counter = 0
/** A fresh 43-character session id. */
export function newId(): string {
  return `${Date.now().toString(36)}${(counter++).toString(36)}`.padEnd(43, 'A')
}

export function session(now: number, meta: Partial<SessionMeta> = {}, fields = {}): StoredSession {
  return {
    fields: { ...fields },
    meta: {
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + IDLE,
      absoluteExpiresAt: Math.floor((now + 6 * IDLE) / 1000) * 1000,
      ...meta,
    },
  }
}

export const noExtend = (now: number) => ({ now, extendIfBefore: 0, extendTo: 0 })
