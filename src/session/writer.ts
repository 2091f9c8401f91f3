/** The end of a request: runs the plan of {@link planFinish} against the store. */
import { dataBytes } from '../bytes.js'
import { SessionLimitError, StoreError } from '../errors.js'
import { extension, initialDeadlines, maxAgeSeconds } from '../expiry.js'
import { isMoved, type SessionKey, type SessionMeta, type StoredSession } from '../store/types.js'
import { newSecret, secretToId, type TokenClaims } from '../token.js'
import { destroyedKey, principalAfter, type Regeneration } from './intent.js'
import { load, throughAlias } from './loader.js'
import { cookieAfter, planFinish, type FinishPlan, type Step } from './planner.js'
import { openSession, sealFields, sealMeta } from './sealing.js'
import type { SessionState } from './state.js'
import type { CookieAction, Outcome } from './types.js'

/** Writes what changed; synchronous when there is nothing to write (most requests). */
export function finish(s: SessionState): Outcome | Promise<Outcome> {
  const destroy = destroyedKey(s.intent)
  const plan = planFinish({
    identity: s.identity.kind,
    presence: s.presence,
    intent: s.intent.kind,
    destroy: destroy !== undefined,
    changes: s.changes.size,
    setsAny: s.changes.setsAny(),
  })
  if (plan.kind === 'write' && !plan.destroy && plan.steps.length === 0)
    return { cookie: cookieAfter(s.identity, s.presence, s.rt.now()), touched: s.used }
  return run(s, plan, destroy)
}

async function run(
  s: SessionState,
  plan: FinishPlan,
  destroy: SessionKey | undefined,
): Promise<Outcome> {
  // fail-open served this request as anonymous because the store failed: a write (or a
  // logout) cannot be honoured, and answering 200 would claim it was.
  if (plan.kind === 'refuse')
    throw new StoreError('session store unavailable: the change was not saved')
  const rt = s.rt
  const touched = s.used
  if (plan.destroy && destroy) {
    await rt.call('destroy', () => rt.store.destroy(destroy))
    rt.emit({ type: 'destroyed', id: destroy.id, uid: destroy.uid, reason: 'logout' })
  }
  for (const step of plan.steps) {
    const cookie = await STEPS[step](s)
    if (cookie) return { cookie, touched: true }
  }
  return { cookie: cookieAfter(s.identity, s.presence, rt.now()), touched }
}

/** Each step of a plan: the cookie when it answered, null when the next step runs. */
const STEPS: Record<Step, (s: SessionState) => Promise<CookieAction | null>> = {
  /** A new secret: data and principal by the intent merge rule. */
  async regenerate(s) {
    const regen = (s.intent as { regen: Regeneration }).regen
    const rt = s.rt
    const oldKey = s.liveKey
    let base: StoredSession | null = null
    let replace: SessionKey | undefined
    if (oldKey && (s.loading || s.changes.size > 0)) {
      // With changes pending the new entry may still be refused (size limits): read without
      // deleting, and let the creation replace the old entry only once it succeeds.
      base = await load(s)
      if (base) replace = s.key
    } else if (oldKey) {
      // Not read yet: read and delete in one step, so the move costs one call, not two.
      const options = { ...extension(rt.now(), s.absoluteDeadline, rt.policy), consume: true }
      const res = await throughAlias(s, oldKey, (k) =>
        rt.call('load', () => rt.store.load(k, options)),
      )
      base = res ? await openSession(rt, res.session, s.token!.claims.dk) : null
    }
    const auth = regen.authenticate
    if (auth && base?.meta.uid !== undefined && base.meta.uid !== auth.uid) base = null
    return create(s, base, regen, replace, oldKey)
  },

  /**
   * Periodic rotation: the store moves the entry to a new secret's key and leaves the old key
   * as an alias for the grace window, with this request's changes applied in the same step.
   * Null when gone, or another request rotated it first: a plain commit follows.
   */
  async rotate(s) {
    const rt = s.rt
    const now = rt.now()
    const from = s.key!
    const claims = s.token!.claims
    const abs = s.absoluteDeadline
    const sid = newSecret()
    const to: SessionKey = { id: await secretToId(sid), uid: from.uid }
    const patch = await sealedPatch(s)
    const options = {
      ...extension(now, abs, rt.policy),
      graceMs: rt.rotationGraceMs,
      maxDataBytes: rt.limits.maxSessionBytes,
    }
    const res = await rt.call('rotate', () => rt.store.rotate(from, to, patch, options))
    if (res === null || isMoved(res)) return null
    s.changes.clear()
    rt.emit({ type: 'rotated', id: to.id, previousId: from.id, uid: from.uid })
    const token = await mint(s, { ...claims, sid, iat: Math.floor(now / 1000) }, to.id)
    return { kind: 'set', token, maxAge: maxAgeSeconds(now, res.expiresAt, abs) }
  },

  /** The changes written in place; a session found gone is marked so, and `create` follows. */
  async commit(s) {
    const rt = s.rt
    const now = rt.now()
    const key = s.key!
    const base = s.loading ? await s.loading : null // settled first: it may follow an alias
    // The session was read: a write past the limit is refused without a store call. The store
    // checks again (writes made without a read, concurrent writes), counting stored bytes.
    if (base) s.changes.checkTotal(base.fields, rt.limits.maxSessionBytes)
    const abs = s.absoluteDeadline
    const patch = await sealedPatch(s)
    const ext = { ...extension(now, abs, rt.policy), maxDataBytes: rt.limits.maxSessionBytes }
    const res = await throughAlias(s, key, (k) =>
      rt.call('commit', () => rt.store.commit(k, patch, ext)),
    )
    if (!res) {
      rt.emit({ type: 'expired', id: key.id })
      s.markGone()
      return null
    }
    if (!res.extended || s.token!.aliased) return { kind: 'none' }
    return { kind: 'set', token: s.token!.token, maxAge: maxAgeSeconds(now, res.expiresAt, abs) }
  },

  /** The changes as a brand-new session. */
  create(s) {
    return create(s, null, undefined)
  },
}

/** Writes a brand-new entry under a new secret and returns the cookie for it. */
async function create(
  s: SessionState,
  base: StoredSession | null,
  regen: Regeneration | undefined,
  replace?: SessionKey,
  previous?: SessionKey,
): Promise<CookieAction> {
  const rt = s.rt
  const now = rt.now()
  const auth = regen?.authenticate
  const fields = s.changes.appliedTo(base?.fields)
  const fresh = initialDeadlines(now, rt.policy)
  const keep = base && !auth ? base.meta : undefined
  const absoluteExpiresAt = keep?.absoluteExpiresAt ?? fresh.absoluteExpiresAt
  const meta: SessionMeta = {
    ...principalAfter(regen, base?.meta, now),
    createdAt: keep?.createdAt ?? now,
    absoluteExpiresAt,
    expiresAt: Math.min(now + rt.policy.idleMs, absoluteExpiresAt),
    lastSeenAt: now,
    rotatedAt: regen ? now : undefined,
    client: s.request?.userAgent() ?? keep?.client,
  }
  const sid = newSecret()
  const dk = rt.encryptAtRest ? newSecret() : undefined
  const key: SessionKey = { id: await secretToId(sid), uid: meta.uid }
  const sealed = await sealFields(rt, fields, dk)
  // the limit counts what is stored (sealed values with encryptAtRest), as the store does
  if (dataBytes(sealed) > rt.limits.maxSessionBytes) {
    throw new SessionLimitError(`session data exceeds ${rt.limits.maxSessionBytes} bytes`)
  }
  const stored = { fields: sealed, meta: await sealMeta(rt, meta) }
  const options = { now, replace, maxSessionsPerUser: rt.maxSessionsPerUser }
  const result = await rt.call('create', () => rt.store.create(key, stored, options))
  if (result.evicted.length > 0 && key.uid !== undefined) {
    rt.emit({ type: 'evicted', ids: result.evicted, uid: key.uid })
  }
  if (auth) rt.emit({ type: 'authenticated', id: key.id, uid: auth.uid })
  else if (previous) rt.emit({ type: 'rotated', id: key.id, previousId: previous.id, uid: key.uid })
  else rt.emit({ type: 'created', id: key.id, uid: key.uid })
  const claims: TokenClaims = {
    sid,
    iat: Math.floor(now / 1000),
    exp: absoluteExpiresAt / 1000,
    ...(meta.uid !== undefined && { uid: meta.uid }),
    ...(meta.authTime !== undefined && { auth_time: Math.floor(meta.authTime / 1000) }),
    ...(meta.amr !== undefined && { amr: meta.amr }),
    ...(dk !== undefined && { dk }),
  }
  const token = await mint(s, claims, key.id)
  return { kind: 'set', token, maxAge: maxAgeSeconds(now, meta.expiresAt, absoluteExpiresAt) }
}

/**
 * Seals a new secret's claims into a token and keeps it in the token cache as if this process
 * had opened it: the client's next request (a logout, the page after sign-in) then skips the
 * AES-GCM open and the SHA-256 of the secret. The store is still asked on that request.
 */
async function mint(s: SessionState, claims: TokenClaims, id: string): Promise<string> {
  const token = await s.rt.ring.seal(claims)
  // what opening would accept: whole seconds (a deadline restored from elsewhere may not be)
  if (Number.isSafeInteger(claims.exp)) s.rt.tokens.set(token, claims, id)
  return token
}

/** This request's field changes as a store patch, sealed when encrypting at rest. */
async function sealedPatch(
  s: SessionState,
): Promise<{ set: Record<string, string>; del: string[] }> {
  const patch = s.changes.patch()
  return { set: await sealFields(s.rt, patch.set, s.token!.claims.dk), del: patch.del }
}
