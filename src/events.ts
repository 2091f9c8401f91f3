/**
 * Session lifecycle events, for logs and metrics. They never carry a secret or a token: only the
 * store id (a hash), the user id and the reason.
 */
export type SessionEvent =
  | { type: 'created'; id: string; uid?: string | undefined }
  | { type: 'authenticated'; id: string; uid: string }
  | { type: 'rotated'; id: string; previousId: string; uid?: string | undefined }
  | {
      type: 'destroyed'
      id: string
      uid?: string | undefined
      reason: 'logout' | 'revoked' | 'logout-all' | 'logout-others'
    }
  | { type: 'expired'; id: string }
  | { type: 'invalid-token' }
  | { type: 'step-up-failed'; uid: string; reason: string }
  /**
   * Too many failed second-factor attempts (over any number of sign-ins): the user's step-up is
   * locked for `durationSeconds`.
   */
  | { type: 'step-up-locked'; uid: string; failures: number; durationSeconds: number }
  /** A second factor was enrolled, replaced or removed (the user's other sessions lost it). */
  | {
      type: 'factor-changed'
      uid: string
      method: string
      change: 'enrolled' | 'replaced' | 'removed'
      id: string
    }
  | { type: 'evicted'; ids: string[]; uid: string }
  | { type: 'store-error'; operation: string; code: string; failOpen: boolean }
  | { type: 'store-call'; operation: string; durationMs: number; ok: boolean }

/** Receives every event. Must not throw; errors it throws are swallowed. */
export type SessionEventHandler = (event: SessionEvent) => void
