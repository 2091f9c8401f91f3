import { describe, expect, it } from 'vitest'
import { timingSafeEqual } from '../../src/util/compare.js'
import { settleWithin, withTimeout } from '../../src/util/timeout.js'

describe('util/timeout', () => {
  it('settles like the work, rejects with the timeout error once the deadline passes', async () => {
    expect(await withTimeout(Promise.resolve(1), 50, () => new Error('late'))).toBe(1)
    const never = new Promise<number>(() => {})
    await expect(withTimeout(never, 10, () => new Error('late'))).rejects.toThrow('late')
    const failing = Promise.reject(new Error('raw'))
    await expect(
      withTimeout(
        failing,
        50,
        () => 'x',
        () => new Error('mapped'),
      ),
    ).rejects.toThrow('mapped')
  })

  it('settleWithin gives the fallback after the deadline or a failure, never rejects', async () => {
    expect(await settleWithin(new Promise(() => {}), 10, 'fallback')).toBe('fallback')
    expect(await settleWithin(Promise.reject(new Error('x')), 10, 'fallback')).toBe('fallback')
    expect(await settleWithin(Promise.resolve('value'), 10, 'fallback')).toBe('value')
  })
})

describe('util/compare', () => {
  it('compares bytes of equal length; a different length is never equal', () => {
    const a = new Uint8Array([1, 2, 3])
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 3]))).toBe(true)
    expect(timingSafeEqual(a, new Uint8Array([1, 2, 4]))).toBe(false)
    expect(timingSafeEqual(a, new Uint8Array([1, 2]))).toBe(false)
  })
})
