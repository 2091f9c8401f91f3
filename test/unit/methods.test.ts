import { describe, expect, it } from 'vitest'
import { meetsMethod } from '../../src/methods.js'

describe('authentication method classes', () => {
  it('a backup code meets a requirement for otp, not the other way round', () => {
    expect(meetsMethod(['pwd', 'backup'], 'otp')).toBe(true)
    expect(meetsMethod(['pwd', 'otp'], 'otp')).toBe(true)
    expect(meetsMethod(['pwd', 'otp'], 'backup')).toBe(false)
    expect(meetsMethod(['pwd'], 'otp')).toBe(false)
    expect(meetsMethod(['backup'], 'pwd')).toBe(false)
  })
})
