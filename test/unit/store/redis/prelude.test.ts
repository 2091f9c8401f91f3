import { describe, expect, it } from 'vitest'
import { luaScript } from '../../../../src/store/redis/prelude.js'
import { SCRIPTS } from '../../../../src/store/redis/scripts.js'
import { redisHarness } from './harness.js'

const h = redisHarness()

/** The helpers a script's source defines, in order. */
const defined = (source: string) =>
  [...source.matchAll(/^local function (\w+)/gm)].map((match) => match[1])

describe('store/redis/prelude', () => {
  it('a script carries the helpers its body calls, and those they call, in definition order', () => {
    expect(defined(luaScript('none', '\nreturn 1').source)).toEqual([])
    // acting -> state -> classify -> num
    expect(defined(luaScript('acting', '\nreturn acting(KEYS[1], 0)').source)).toEqual([
      'num',
      'classify',
      'state',
      'acting',
    ])
    // the load script defines what it uses and nothing it does not
    expect(defined(SCRIPTS.load.source)).not.toContain('chunked')
    expect(defined(SCRIPTS.load.source)).toContain('extension')
  })

  it('every script compiles, and defines every helper it calls', async () => {
    const helpers = new Set(Object.values(SCRIPTS).flatMap((script) => defined(script.source)))
    for (const [name, script] of Object.entries(SCRIPTS)) {
      expect(await h.raw.script('LOAD', script.source), name).toMatch(/^[0-9a-f]{40}$/)
      const called = [...helpers].filter((helper) =>
        new RegExp(`\\b${helper}\\(`).test(script.source.replace(/^local function \w+/gm, '')),
      )
      expect(defined(script.source).sort(), name).toEqual(called.sort())
    }
  })
})
