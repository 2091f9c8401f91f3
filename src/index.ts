export { session, type SessionEnv, type SessionVariables } from './middleware.js'
export {
  Session,
  type SessionData,
  type SessionInfo,
  type AuthenticateOptions,
} from './session/session.js'
export type { SessionOptions, SessionLimits } from './runtime.js'
export type { SessionEvent, SessionEventHandler } from './events.js'
export {
  SessionError,
  StoreError,
  StoreTimeoutError,
  SessionLimitError,
  SessionStateError,
  SessionInputError,
  SessionRequiredError,
  AccessError,
  RateLimitError,
} from './errors.js'
export * from './rate-limit/index.js'
export { KeyRing, generateKeySecret, type TokenKey, type TokenClaims } from './token.js'
export type * from './store/types.js'
export {
  requireSession,
  requireRole,
  requirePermission,
  requireFreshAuth,
  type FreshAuthOptions,
} from './guards.js'
export {
  trustedDevices,
  TRUSTED_METHOD,
  type TrustedDevices,
  type TrustedDeviceOptions,
} from './trusted-device.js'
