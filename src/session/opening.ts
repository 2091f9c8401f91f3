import { secretToId } from '../token.js'
import type { SessionState } from './state.js'

/**
 * Opens the request's token into the session's identity: crypto only, no store call.
 * Synchronous (no promise) for a token this process opened before, the common case.
 */
export function openToken(s: SessionState, token: string): Promise<void> | undefined {
  const now = s.rt.now()
  const opened = s.rt.tokens.get(token, now)
  if (!opened) return openNew(s, token, now)
  s.identify(token, opened.claims, opened.id)
  return undefined
}

async function openNew(s: SessionState, token: string, now: number): Promise<void> {
  const claims = await s.rt.ring.open(token, now)
  if (!claims) {
    s.identity = { kind: 'invalid' }
    s.rt.emit({ type: 'invalid-token' })
    return
  }
  const id = await secretToId(claims.sid)
  s.rt.tokens.set(token, claims, id)
  s.identify(token, claims, id)
}
