/**
 * The `Upstash-Sync-Token` header: the replication offset of the state a response reflects.
 *
 * `@upstash/redis` (with `readYourWrites`, its default) keeps the token of each successful
 * response and sends it back on its next request; a replica may answer that request only once
 * it has applied the primary's replication stream up to the token. The token is the offset
 * in decimal: Redis numbers the stream's bytes, and a replica's offset is the number of bytes
 * it applied (after a Sentinel failover the promoted replica carries the numbering on).
 *
 * Offsets come from `ROLE`, sent on the connection that ran the request, so no round trip is
 * added: on the primary behind the request's commands (one `ROLE` for all the requests whose
 * commands leave in the same socket write), on a replica in front of them.
 */
import type { Redis } from 'ioredis'

/** The header, as the client sends and reads it (header names are case-insensitive). */
export const SYNC_TOKEN_HEADER = 'Upstash-Sync-Token'

/** What a request asked for: the least offset to read at, and the token to echo if nothing is read. */
export interface WantedOffset {
  /** 0 without a token; `Infinity` for a token that is not ours (only the primary is sure to be at it). */
  offset: number
  /** The request's token when well-formed (echoed by a response that read nothing). */
  token: string | undefined
}

const OFFSET = /^\d{1,15}$/

/** Parses the request's header; an absent or empty token asks for nothing. */
export function wantedOffset(header: string | null | undefined): WantedOffset {
  const text = header?.trim()
  if (!text) return { offset: 0, token: undefined }
  if (!OFFSET.test(text)) return { offset: Infinity, token: undefined }
  return { offset: Number(text), token: text }
}

/** A server's place in replication, from `ROLE`. */
export interface ReplicationState {
  role: 'master' | 'slave'
  /** Bytes of the replication stream applied (-1 while a replica has not synced yet). */
  offset: number
  /** A master always; a replica while its link to the master is up (`connected`). */
  linked: boolean
}

/** Reads a `ROLE` reply; undefined for anything else (a sentinel, an error text). */
export function replicationState(reply: unknown): ReplicationState | undefined {
  if (!Array.isArray(reply)) return undefined
  const [role] = reply as unknown[]
  const offset = Number(role === 'master' ? reply[1] : reply[4])
  if (!Number.isSafeInteger(offset)) return undefined
  if (role === 'master') return { role, offset, linked: true }
  if (role === 'slave') return { role, offset, linked: reply[3] === 'connected' }
  return undefined
}

/** Sends `ROLE` now; resolves with the state, or undefined when it failed (e.g. an ACL without `+role`). */
export function askRole(client: Redis): Promise<ReplicationState | undefined> {
  return client.call('ROLE').then(replicationState, () => undefined)
}

/** A client that can run a callback just before its batched commands leave (BatchingRedis). */
interface Flushing {
  atFlush(callback: () => void): void
}

function flushes(client: Redis): client is Redis & Flushing {
  return typeof (client as Partial<Flushing>).atFlush === 'function'
}

/** The primary's offset after the commands already sent on its connection. */
export interface OffsetAfter {
  /**
   * Resolves with the offset measured by a `ROLE` that leaves behind every command sent so far
   * in this turn of the event loop (undefined when `ROLE` failed). Call it right after sending.
   */
  (): Promise<number | undefined>
}

/**
 * Coalesces the probes of one connection: every request whose commands leave in the same
 * socket write shares one `ROLE`, sent last in that write (with {@link BatchingRedis}), or at
 * the next immediate (a plain client), which still follows the commands on the connection.
 */
export function offsetAfter(client: Redis): OffsetAfter {
  let pending: Promise<number | undefined> | undefined
  return () => {
    pending ??= new Promise((resolve) => {
      const send = () => {
        pending = undefined // a request sending from now on needs a later ROLE
        void askRole(client).then((state) =>
          resolve(state?.role === 'master' ? state.offset : undefined),
        )
      }
      if (flushes(client)) client.atFlush(send)
      else setImmediate(send)
    })
    return pending
  }
}
