/**
 * Property-based tests (fast-check) against the memory store and a real Redis (ioredis store):
 * - model: random sequences of steps (concurrent batches of set/delete on distinct fields,
 *   regenerate, destroy, destroy racing writes with the old cookie) keep the session equal to a
 *   plain-object model; a regenerated or destroyed token is dead and never resurrected (L2, L4).
 * - payloads: random JSON values (unicode, lone surrogates, large and tiny numbers, nested)
 *   round-trip exactly; a field of exactly `limits.maxFieldBytes` is stored, one byte over is
 *   refused with 413 and nothing is stored (D2, attack 7).
 */
import fc from 'fast-check'
import { afterAll, describe, expect, it } from 'vitest'
import type { IoredisStore } from '../../src/store/ioredis.js'
import { figures, sessionKeyOf } from '../helpers/load.js'
import { stopAll } from '../helpers/redis.js'
import { acrossStores, IOREDIS, MEMORY } from '../helpers/stores.js'
import { CookieJar, send, sessionApp } from '../helpers/session-app.js'

const MAX_FIELD = 1024
const FIELDS = ['a', 'b', 'c', 'd', 'e'] as const

afterAll(stopAll, 60_000)

type Op = { field: string; value: unknown } | { field: string; delete: true }
type Step =
  | { kind: 'batch'; ops: Op[] }
  | { kind: 'regenerate'; ops: Op[] }
  | { kind: 'destroy' }
  | { kind: 'destroyRace'; ops: Op[] }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ field: fc.constantFrom(...FIELDS), value: fc.jsonValue({ maxDepth: 2 }) }),
  fc.record({ field: fc.constantFrom(...FIELDS), delete: fc.constant(true as const) }),
)
/** Ops on distinct fields: concurrent field-level patches have one correct outcome. */
const distinctOps = fc.uniqueArray(op, { selector: (o) => o.field, minLength: 1, maxLength: 5 })
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: distinctOps.map((ops) => ({ kind: 'batch' as const, ops })) },
  {
    weight: 1,
    arbitrary: fc
      .uniqueArray(op, { selector: (o) => o.field, maxLength: 3 })
      .map((ops) => ({ kind: 'regenerate' as const, ops })),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'destroy' as const }) },
  { weight: 1, arbitrary: distinctOps.map((ops) => ({ kind: 'destroyRace' as const, ops })) },
)

const canon = (v: unknown) => JSON.parse(JSON.stringify(v ?? {}))

acrossStores([MEMORY, IOREDIS], (makeStore, storeName) => {
  const name = storeName === MEMORY.name ? 'memory' : 'redis'
  const numRuns = name === 'memory' ? 80 : 40
  /** The raw client of the Redis store, to look at what it holds. */
  const raw = () => (makeStore() as IoredisStore).client
  it('concurrent set/delete/regenerate/destroy keep the session equal to the model', async () => {
    const app = sessionApp({ insecureLocalhost: true, store: makeStore() })
    const apply = (jar: CookieJar, o: Op) =>
      'delete' in o
        ? send(app, jar, 'POST', `/delete/${o.field}`)
        : send(app, jar, 'POST', `/set/${o.field}`, o.value)
    const applyModel = (model: Record<string, unknown>, o: Op) => {
      if ('delete' in o) delete model[o.field]
      else model[o.field] = JSON.parse(JSON.stringify(o.value))
    }
    const dead = async (token: string | undefined) => {
      if (!token) return true
      const j = new CookieJar()
      j.cookies.set('session', token)
      const all = await (await send(app, j, 'GET', '/all')).json()
      if (Object.keys(all as object).length) return false
      if (name === 'redis') return (await raw().exists((await sessionKeyOf(token)).key)) === 0
      return true
    }
    let steps = 0
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 10 }), async (plan) => {
        let jar = new CookieJar()
        let model: Record<string, unknown> = {}
        for (const s of plan) {
          steps++
          const old = jar.cookies.get('session')
          if (s.kind === 'batch') {
            // concurrent requests: one jar per request, all sending the same cookie
            const jars = s.ops.map(() => {
              const j = new CookieJar()
              if (old) j.cookies.set('session', old)
              return j
            })
            if (!old) {
              // no session yet: sequential on the one jar (the first write creates it)
              for (const o of s.ops) await apply(jar, o)
            } else {
              const res = await Promise.all(s.ops.map((o, i) => apply(jars[i]!, o)))
              if (res.some((r) => r.status !== 200)) return false
            }
            for (const o of s.ops) applyModel(model, o)
          } else if (s.kind === 'regenerate') {
            await send(app, jar, 'POST', '/regenerate')
            for (const o of s.ops) {
              await apply(jar, o)
              applyModel(model, o)
            }
            if (old && jar.cookies.get('session') === old) return false
            if (old && Object.keys(model).length && !(await dead(old))) return false
          } else if (s.kind === 'destroy') {
            await send(app, jar, 'POST', '/destroy')
            model = {}
            if (!(await dead(old))) return false
          } else {
            // destroy racing writes that still carry the old cookie: no resurrection (L4)
            const racers = s.ops.map(() => {
              const j = new CookieJar()
              if (old) j.cookies.set('session', old)
              return j
            })
            await Promise.all([
              send(app, jar, 'POST', '/destroy'),
              ...s.ops.map((o, i) => apply(racers[i]!, o)),
            ])
            if (!(await dead(old))) return false
            jar = new CookieJar()
            model = {}
          }
          const seen = await (await send(app, jar, 'GET', '/all')).json()
          if (JSON.stringify(sortKeys(canon(seen))) !== JSON.stringify(sortKeys(model))) {
            console.log('[fuzz-model] mismatch', JSON.stringify(seen), JSON.stringify(model))
            return false
          }
        }
        return true
      }),
      { numRuns },
    )
    figures('fuzz-model', { store: name, runs: numRuns, steps })
  }, 120_000)

  it('random JSON payloads round-trip exactly', async () => {
    const app = sessionApp({
      insecureLocalhost: true,
      store: makeStore(),
      limits: { maxFieldBytes: 64 * 1024 },
    })
    const jar = new CookieJar()
    const value = fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.string({ unit: 'binary' }), // lone surrogates included
      fc.string({ unit: 'grapheme' }),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.constantFrom(Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, 1e308, 5e-324, -0),
      fc.dictionary(fc.string({ unit: 'grapheme', maxLength: 8 }), fc.jsonValue({ maxDepth: 3 })),
    )
    await fc.assert(
      fc.asyncProperty(value, async (v) => {
        const set = await send(app, jar, 'POST', '/set/v', v)
        if (set.status !== 200) return false
        const got = ((await (await send(app, jar, 'GET', '/get/v')).json()) as { value: unknown })
          .value
        return JSON.stringify(got) === JSON.stringify(v === null ? null : v)
      }),
      { numRuns: name === 'memory' ? 400 : 200 },
    )
  }, 120_000)

  it(`a field of exactly maxFieldBytes (${MAX_FIELD}) is stored, one byte over is 413 and nothing is stored`, async () => {
    const app = sessionApp({
      insecureLocalhost: true,
      store: makeStore(),
      limits: { maxFieldBytes: MAX_FIELD },
    })
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('f', 'field', 'x'.repeat(40)), async (field) => {
        const jar = new CookieJar()
        await send(app, jar, 'POST', '/set/keep', 1)
        // name + JSON text = MAX_FIELD exactly: `"` + k chars + `"`
        const k = MAX_FIELD - field.length - 2
        const exact = await send(app, jar, 'POST', `/set/${field}`, 'x'.repeat(k))
        if (exact.status !== 200) return false
        const over = await send(app, jar, 'POST', `/set/${field}`, 'y'.repeat(k + 1))
        if (over.status !== 413) return false
        const body = (await over.json()) as { code?: string }
        if (body.code !== 'ERR_SESSION_LIMIT') return false
        const got = (await (await send(app, jar, 'GET', `/get/${field}`)).json()) as {
          value: string
        }
        return got.value === 'x'.repeat(k) // the refused write left the stored value alone
      }),
      { numRuns: 3 },
    )
  })

  // The limit counts UTF-8 bytes of name + value (found by this suite: it once compared UTF-16
  // lengths of name + value and the UTF-8 length of the value alone).
  it('limits count UTF-8 bytes of name + value (multibyte value one byte over: 413)', async () => {
    const app = sessionApp({
      insecureLocalhost: true,
      store: makeStore(),
      limits: { maxFieldBytes: MAX_FIELD },
    })
    const jar = new CookieJar()
    // "f" (1 byte) + `"` + 511 x "é" (2 bytes each) + `"` = 1 + 1022 + 2 = 1025 bytes
    const res = await send(app, jar, 'POST', '/set/f', 'é'.repeat(511))
    expect(res.status).toBe(413)
  })
})

function sortKeys(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
}
