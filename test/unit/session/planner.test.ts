/**
 * The commit planner against the rules the Session class applied with its nine flags before the
 * split (written out below as `flagRules`, the oracle), over every combination they allowed.
 */
import { describe, expect, it } from 'vitest'
import type { Intent } from '../../../src/session/intent.js'
import { cookieAfter, planFinish, type FinishFacts } from '../../../src/session/planner.js'
import type { Identity, Presence } from '../../../src/session/state.js'
import type { TokenClaims } from '../../../src/token.js'

const claims: TokenClaims = { sid: 's', iat: 0, exp: 1_000 } as TokenClaims
const key = { id: 'k'.repeat(43), uid: 'u' }

const identities: Identity[] = [
  { kind: 'none' },
  { kind: 'invalid' },
  { kind: 'token', token: 't', claims, key, aliased: false },
  { kind: 'token', token: 't', claims, key, aliased: true },
  { kind: 'ended', aliased: false },
  { kind: 'ended', aliased: true },
]
const presences: Presence[] = [
  { kind: 'unknown' },
  { kind: 'live', extendedTo: undefined, rotateDue: false },
  { kind: 'live', extendedTo: 500_000, rotateDue: false },
  { kind: 'live', extendedTo: undefined, rotateDue: true },
  { kind: 'gone' },
  { kind: 'detached' },
]
const intents: Intent[] = [
  { kind: 'keep' },
  { kind: 'destroy', key },
  { kind: 'regenerate', regen: { stepUps: [] }, destroyFirst: undefined },
  { kind: 'regenerate', regen: { stepUps: [] }, destroyFirst: key },
]
const changeSets = [
  { changes: 0, setsAny: false },
  { changes: 2, setsAny: false },
  { changes: 2, setsAny: true },
]

/** The old #finishWrites, flag by flag: the actions tried in order ('refuse' when it threw). */
function flagRules(
  identity: Identity,
  presence: Presence,
  intent: Intent,
  c: (typeof changeSets)[0],
) {
  const hasKey = identity.kind === 'token'
  const detached = presence.kind === 'detached'
  const gone = presence.kind === 'gone' || detached
  const clearCookie = identity.kind === 'ended'
  const regen = intent.kind === 'regenerate'
  const destroyKey = intent.kind === 'destroy' || (regen && intent.destroyFirst !== undefined)
  const rotateDue = presence.kind === 'live' && presence.rotateDue
  if (!(detached || destroyKey || regen || rotateDue || c.changes > 0)) return []
  if (detached) return c.changes > 0 || regen || destroyKey || clearCookie ? ['refuse'] : []
  const out: string[] = []
  if (destroyKey) out.push('destroy')
  if (regen) return [...out, 'regenerate']
  if (rotateDue && hasKey && !gone) out.push('rotate')
  if (c.changes > 0) {
    if (hasKey && !gone) out.push('commit')
    if (c.setsAny) out.push('create')
  }
  return out
}

describe('planFinish', () => {
  it('plans what the flags did, for every combination (6 x 6 x 4 x 3)', () => {
    let n = 0
    for (const identity of identities)
      for (const presence of presences)
        for (const intent of intents)
          for (const c of changeSets) {
            const facts: FinishFacts = {
              identity: identity.kind,
              presence,
              intent: intent.kind,
              destroy:
                intent.kind === 'destroy' ||
                (intent.kind === 'regenerate' && !!intent.destroyFirst),
              ...c,
            }
            const plan = planFinish(facts)
            const actions =
              plan.kind === 'refuse'
                ? ['refuse']
                : [...(plan.destroy ? ['destroy'] : []), ...plan.steps]
            expect(actions, JSON.stringify({ identity, presence, intent, c })).toEqual(
              flagRules(identity, presence, intent, c),
            )
            n++
          }
    expect(n).toBe(432)
  })

  it('a read-only request on a live session writes nothing', () => {
    const plan = planFinish({
      identity: 'token',
      presence: { kind: 'live', extendedTo: 1, rotateDue: false },
      intent: 'keep',
      destroy: false,
      changes: 0,
      setsAny: false,
    })
    expect(plan).toEqual({ kind: 'write', destroy: false, steps: [] })
  })

  it('a write on a session found gone becomes a new session; deletions alone do not', () => {
    const gone = {
      identity: 'token',
      presence: { kind: 'gone' },
      intent: 'keep',
      destroy: false,
    } as const
    expect(planFinish({ ...gone, changes: 1, setsAny: true })).toMatchObject({ steps: ['create'] })
    expect(planFinish({ ...gone, changes: 1, setsAny: false })).toMatchObject({ steps: [] })
  })
})

describe('cookieAfter', () => {
  const now = 100_000
  const token = identities[2]!
  it('re-sends the token when the idle deadline moved, capped by the absolute one', () => {
    expect(
      cookieAfter(token, { kind: 'live', extendedTo: 400_000, rotateDue: false }, now),
    ).toEqual({
      kind: 'set',
      token: 't',
      maxAge: 300,
    })
    expect(
      cookieAfter(token, { kind: 'live', extendedTo: 5_000_000, rotateDue: false }, now),
    ).toEqual({
      kind: 'set',
      token: 't',
      maxAge: 900,
    })
  })
  it('clears a dead, invalid or destroyed session; never touches it through an alias or detached', () => {
    expect(cookieAfter(token, { kind: 'gone' }, now)).toEqual({ kind: 'clear' })
    expect(cookieAfter({ kind: 'invalid' }, { kind: 'unknown' }, now)).toEqual({ kind: 'clear' })
    expect(cookieAfter({ kind: 'ended', aliased: false }, { kind: 'unknown' }, now)).toEqual({
      kind: 'clear',
    })
    expect(cookieAfter({ kind: 'ended', aliased: true }, { kind: 'unknown' }, now)).toEqual({
      kind: 'none',
    })
    expect(cookieAfter(identities[3]!, { kind: 'gone' }, now)).toEqual({ kind: 'none' })
    expect(cookieAfter(token, { kind: 'detached' }, now)).toEqual({ kind: 'none' })
    expect(cookieAfter({ kind: 'none' }, { kind: 'unknown' }, now)).toEqual({ kind: 'none' })
    expect(
      cookieAfter(token, { kind: 'live', extendedTo: undefined, rotateDue: true }, now),
    ).toEqual({
      kind: 'none',
    })
  })
})
