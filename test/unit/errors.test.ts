import { describe, expect, it } from 'vitest'
import {
  AccessError,
  SessionError,
  SessionInputError,
  SessionLimitError,
  SessionRequiredError,
  SessionStateError,
  StoreError,
  StoreTimeoutError,
} from '../../src/errors.js'

describe('errors: every SessionError renders itself', () => {
  const cases: [SessionError, number, string][] = [
    [new StoreError('x'), 503, 'ERR_SESSION_STORE'],
    [new StoreTimeoutError('x'), 503, 'ERR_SESSION_STORE_TIMEOUT'],
    [new SessionLimitError('too big'), 413, 'ERR_SESSION_LIMIT'],
    [new SessionInputError('bad input'), 400, 'ERR_SESSION_INPUT'],
    [new SessionStateError('misuse'), 500, 'ERR_SESSION_STATE'],
    [new SessionRequiredError(), 401, 'ERR_SESSION_REQUIRED'],
    [
      new AccessError(403, 'ERR_FORBIDDEN', 'Missing role', { required: ['admin'] }),
      403,
      'ERR_FORBIDDEN',
    ],
  ]
  for (const [error, status, code] of cases) {
    it(`${error.name} (${code}): ${status}, a JSON body with the code, no-store`, async () => {
      expect(error).toBeInstanceOf(SessionError)
      expect(error.status).toBe(status)
      const res = error.getResponse()
      expect(res.status).toBe(status)
      expect(res.headers.get('cache-control')).toBe('no-store')
      expect(res.headers.get('content-type')).toBe('application/json')
      expect(await res.json()).toMatchObject({ code })
    })
  }

  it('a store error never shows its own text; it says when to retry', async () => {
    const res = new StoreError('ECONNREFUSED 10.0.0.7:6379 while sending EVALSHA').getResponse()
    expect(await res.text()).not.toContain('10.0.0.7')
    expect(res.headers.get('retry-after')).toBe('1')
  })
})
