import { describe, expect, it } from 'vitest'
import { luaScript } from '../../../../src/store/redis/prelude.js'
import { isNoScript, runScript, scriptSha } from '../../../../src/store/redis/runner.js'
import { redisHarness } from './harness.js'

const h = redisHarness()

describe('store/redis/runner', () => {
  it('sends EVALSHA, and EVAL once after the script cache was flushed', async () => {
    const script = luaScript('probe', `\nreturn ARGV[1]`)
    const sent: boolean[] = []
    const exec = (call: Parameters<typeof h.exec>[0]) => {
      sent.push(call.bySha)
      return h.exec(call)
    }
    await h.raw.script('FLUSH')
    expect(await runScript(exec, script, [], ['x'])).toBe('x')
    expect(await runScript(exec, script, [], ['y'])).toBe('y')
    expect(sent).toEqual([true, false, true])
    expect(await scriptSha(script)).toMatch(/^[0-9a-f]{40}$/)
    expect(isNoScript(new Error('NOSCRIPT No matching script'))).toBe(true)
    expect(isNoScript(new Error('ERR other'))).toBe(false)
  })
})
