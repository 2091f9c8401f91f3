import { describe, expect, it } from 'vitest'
import { ChangeSet } from '../../../src/session/changes.js'

describe('ChangeSet', () => {
  it('records sets and deletions as a patch, applied to stored fields', () => {
    const c = new ChangeSet()
    c.record('a', '1')
    c.record('b', null)
    expect(c.setsAny()).toBe(true)
    expect(c.patch()).toEqual({ set: { a: '1' }, del: ['b'] })
    const stored = { b: '"x"', c: '2' }
    expect(c.appliedTo(stored)).toEqual({ a: '1', c: '2' })
    expect(stored).toEqual({ b: '"x"', c: '2' })
    c.record('a', null)
    expect(c.setsAny()).toBe(false)
    expect(c.get('a')).toBeNull()
    expect(c.get('z')).toBeUndefined()
  })

  it('refuses growth past the limit, and lets a session already over it shrink', () => {
    const c = new ChangeSet()
    c.record('big', '"' + 'x'.repeat(100) + '"')
    expect(() => c.checkTotal({}, 50)).toThrow(
      expect.objectContaining({ code: 'ERR_SESSION_LIMIT' }),
    )
    expect(() => c.checkTotal({}, 500)).not.toThrow()
    const shrink = new ChangeSet()
    shrink.record('big', null)
    expect(() => shrink.checkTotal({ big: 'x'.repeat(100), b: '1' }, 50)).not.toThrow()
  })
})
