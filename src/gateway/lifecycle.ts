/**
 * The life of requests in the gateway: admission (refused once closing), a deadline per request,
 * and draining the requests in flight on close.
 */
import type { Context, Next } from 'hono'
import { withTimeout } from '../util/timeout.js'
import { ExecutionProblem } from './execute.js'

export interface Lifecycle {
  /**
   * The handler, counted while in flight, answering 503 once `close()` was called. A wrapper per
   * route rather than a `*` middleware: a request that matches one route then skips Hono's
   * middleware chain (one promise chain fewer on every request).
   */
  admit<R extends Response | void>(
    handler: (c: Context, next: Next) => R | Promise<R>,
  ): (c: Context, next: Next) => Promise<R | Response>
  /** Resolves when no request is in flight, or after `graceMs`; idempotent. */
  close(): Promise<void>
}

/** Admission and drain for one gateway. */
export function createLifecycle(graceMs: number): Lifecycle {
  let closing = false
  let inFlight = 0
  let drained: (() => void) | undefined
  let closed: Promise<void> | undefined

  return {
    admit: (handler) =>
      async function admitted(c, next) {
        if (closing) {
          return c.json({ error: 'ERR gateway is shutting down' }, 503, { Connection: 'close' })
        }
        inFlight++
        try {
          return await handler(c, next)
        } finally {
          if (--inFlight === 0) drained?.()
        }
      },
    close() {
      closing = true
      closed ??= new Promise<void>((resolve) => {
        if (inFlight === 0) return resolve()
        const timer = setTimeout(resolve, graceMs)
        drained = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      return closed
    },
  }
}

/**
 * Settles like `work`, or rejects with a 504 `ExecutionProblem` after `timeoutMs`. The work is
 * not cancelled: a command already sent may still run, which the error text says.
 */
export function withDeadline<T>(work: Promise<T>, timeoutMs: number): Promise<T> {
  return withTimeout(work, timeoutMs, () => {
    const message = `ERR gateway timeout: no answer within ${timeoutMs} ms; the command may still have run`
    return new ExecutionProblem(504, message)
  })
}
