/**
 * The per-user operations (devices, counters, single-use claims, per-user secrets, roles and
 * methods of every session of the user). A scope exists only for a session that may be live,
 * and every store call carries the session as the actor whose liveness the store checks in the
 * same atomic step: a dead token acts for nobody.
 */
import { SessionRequiredError } from '../errors.js'
import type { Actor, SessionSummary } from '../store/types.js'
import { load } from './loader.js'
import { openMeta } from './sealing.js'
import type { SessionState } from './state.js'
import type { ReserveResult } from './types.js'

/** One entry of "my devices". */
export type DeviceSummary = Omit<SessionSummary, 'revokedMethods'> & { current: boolean }

/** The session's user, and what can be done to it with the session as the actor. */
export interface UserScope {
  /** The acting session. */
  id: string
  uid: string
  /** Runs one store call with this session as the actor; a session found dead is gone after. */
  run<T>(op: string, fn: (actor: Actor) => Promise<T>): Promise<T>
  /** "My devices": the user's sessions, the current one marked. */
  listSessions(): Promise<DeviceSummary[]>
  /** Revokes one of the user's sessions by its id. */
  revoke(id: string): Promise<void>
  /** Every session of the user, this one included; the request forgets its session. */
  destroyAll(): Promise<number>
  /** Every other session of the user; this one gets a new secret when the response is sent. */
  destroyOthers(): Promise<number>
  /** Counts `by` (undefined: one) in the user's window `name`, refused past `limit`. */
  hit(
    name: string,
    windowMs: number,
    by: number | undefined,
    limit?: number,
  ): Promise<ReserveResult>
  claimOnce(name: string, ttlMs: number): Promise<boolean>
  readUserSecret(name: string): Promise<string | null>
  writeUserSecret(name: string, value: string | null): Promise<void>
  /** Roles of every live session of this user; this one regenerates with them. */
  setRoles(roles: string[]): Promise<number>
  /** `method` stops counting in every session of the user (this one too unless `keepCurrent`). */
  revokeMethod(method: string, keepCurrent: boolean): Promise<number>
}

/** @throws SessionRequiredError unless the session names a user and is not known gone */
export function userScope(s: SessionState): UserScope {
  s.touch()
  const key = s.liveKey
  if (!key || key.uid === undefined) throw new SessionRequiredError()
  const { id, uid } = key
  const { rt } = s
  const scope: UserScope = {
    id,
    uid,
    async run(op, fn) {
      const actor: Actor = { id, now: rt.now() }
      try {
        return await rt.call(op, () => fn(actor))
      } catch (err) {
        if (err instanceof SessionRequiredError) s.markGone()
        throw err
      }
    },

    async listSessions() {
      const list = await scope.run('listUser', (a) => rt.store.listUser(uid, a.now, a))
      return Promise.all(
        list.map(async ({ revokedMethods, ...d }) => {
          const { client, amr } = await openMeta(rt, d.client, d.amr, revokedMethods)
          return { ...d, client, amr, current: d.id === id }
        }),
      )
    },

    async revoke(other) {
      await scope.run('destroy', (a) => rt.store.destroy({ id: other, uid }, a))
      rt.emit({ type: 'destroyed', id: other, uid, reason: 'revoked' })
    },

    async destroyAll() {
      const n = await scope.run('destroyUser', (a) =>
        rt.store.destroyUser(uid, a.now, { actor: a }),
      )
      rt.emit({ type: 'destroyed', id, uid, reason: 'logout-all' })
      s.forget()
      return n
    },

    async destroyOthers() {
      // a load first: through a rotation alias, the session to keep is the one it points to
      if (!(await load(s))) throw new SessionRequiredError()
      const keep = userScope(s)
      const n = await keep.run('destroyUser', (a) =>
        rt.store.destroyUser(keep.uid, a.now, { actor: a, except: keep.id }),
      )
      rt.emit({ type: 'destroyed', id: keep.id, uid: keep.uid, reason: 'logout-others' })
      s.regeneration()
      return n
    },

    async hit(name, windowMs, by, limit) {
      const { count, allowed, resetMs } = await scope.run('hit', (actor) =>
        rt.store.hit(uid, name, { windowMs, by, limit, actor }),
      )
      return { allowed, count, resetMs }
    },

    claimOnce(name, ttlMs) {
      return scope.run('claim', (a) => rt.store.claim(uid, name, ttlMs, a))
    },

    async readUserSecret(name) {
      const sealed = await scope.run('getUserValue', (a) => rt.store.getUserValue(uid, name, a))
      return sealed === null ? null : rt.ring.openValue(sealed)
    },

    async writeUserSecret(name, value) {
      const sealed = value === null ? null : await rt.ring.sealValue(value)
      await scope.run('setUserValue', (a) => rt.store.setUserValue(uid, name, sealed, a))
    },

    async setRoles(roles) {
      const n = await scope.run('updateUser', (a) => rt.store.updateUser(uid, { roles }, a.now, a))
      s.regeneration().userRoles = { uid, roles }
      return n
    },

    async revokeMethod(method, keepCurrent) {
      const except = keepCurrent ? id : undefined
      const n = await scope.run('updateUser', (a) =>
        rt.store.updateUser(uid, { revokeMethods: [method], except }, a.now, a),
      )
      if (!keepCurrent) {
        const base = s.loading ? await s.loading : null
        if (base?.meta.amr) base.meta.amr = base.meta.amr.filter((m) => m !== method)
        if (s.intent.kind === 'regenerate')
          for (const up of s.intent.regen.stepUps) if (up.method === method) up.uid = undefined
      }
      return n
    },
  }
  return scope
}
