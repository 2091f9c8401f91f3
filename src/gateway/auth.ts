/**
 * Bearer-token authentication for the gateway.
 *
 * Tokens are compared in constant time: both sides are hashed with SHA-256 (so lengths never
 * differ) and compared with `crypto.timingSafeEqual`, against every configured token, without an
 * early exit, so the timing says neither which token matched nor how much of one did.
 */
import * as nodeCrypto from 'node:crypto'
import { timingSafeEqual } from '../util/compare.js'

/** What a request may do. */
export type Access = 'read-write' | 'read-only'

/**
 * Upstash's answer to a missing or wrong token: HTTP 401 with this body
 * (https://upstash.com/docs/redis/troubleshooting/http_unauthorized).
 */
export const UNAUTHORIZED_BODY = { error: 'WRONGPASS invalid or missing auth token' } as const

export interface TokenOptions {
  /** Read-write tokens; at least one. */
  tokens: string[]
  /** Tokens that may only run read commands. */
  readOnlyTokens?: string[] | undefined
}

export interface Authenticator {
  /** The access of the `Authorization` header's token, or null when missing or wrong. */
  check(authorization: string | undefined | null): Access | null
}

/** Node's one-shot hash (20.12+), a third of the cost of a Hash object per request. */
const oneShot = (
  nodeCrypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }
).hash
const digest = (token: string): Uint8Array =>
  oneShot
    ? oneShot('sha256', token, 'buffer')
    : nodeCrypto.createHash('sha256').update(token, 'utf8').digest()

function validate(list: unknown, option: string, required: boolean): string[] {
  if (list === undefined && !required) return []
  if (!Array.isArray(list) || (required && list.length === 0)) {
    throw new Error(`createGateway requires options for "${option}": a non-empty array of strings`)
  }
  for (const token of list) {
    if (typeof token !== 'string' || token.trim() === '') {
      throw new Error(`createGateway: every entry of "${option}" must be a non-empty string`)
    }
    if (token.length < 16) {
      throw new Error(`createGateway: tokens in "${option}" must be at least 16 characters long`)
    }
  }
  return list as string[]
}

/** Validates the token lists once (throwing with the option's name) and returns the checker. */
export function createAuthenticator(options: TokenOptions): Authenticator {
  const readWrite = validate(options.tokens, 'tokens', true)
  const readOnly = validate(options.readOnlyTokens, 'readOnlyTokens', false)
  if (readOnly.some((t) => readWrite.includes(t))) {
    throw new Error('createGateway: a token cannot be in both "tokens" and "readOnlyTokens"')
  }
  const known = [
    ...readWrite.map((t) => ({ hash: digest(t), access: 'read-write' as const })),
    ...readOnly.map((t) => ({ hash: digest(t), access: 'read-only' as const })),
  ]

  return {
    check(authorization) {
      const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization ?? '')
      if (!match) return null
      const presented = digest(match[1]!)
      let access: Access | null = null
      for (const entry of known) {
        // No early exit: every token is compared whatever the outcome.
        if (timingSafeEqual(entry.hash, presented) && access === null) access = entry.access
      }
      return access
    },
  }
}
