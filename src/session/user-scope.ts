/**
 * The per-user operations (devices, counters, single-use claims, per-user secrets, roles and
 * methods of every session of the user). A scope exists only for a session that may be live,
 * and every store call carries the session as the actor whose liveness the store checks in
 * the same atomic step: a dead token acts for nobody.
 */
import { SessionRequiredError } from '../errors.js'
import type { Actor, SessionSummary } from '../store/types.js'
import { load } from './loader.js'
import { openMeta } from './sealing.js'
import type { SessionState } from './state.js'
import type { ReserveResult } from './types.js'

/** One entry of "my devices". */
export type DeviceSummary = Omit<SessionSummary, 'revokedMethods'> & { current: boolean }

export class UserScope {
  /** @throws SessionRequiredError unless the session names a user and is not known gone */
  static of(s: SessionState): UserScope {
    s.touch()
    const key = s.liveKey
    if (!key || key.uid === undefined) throw new SessionRequiredError()
    return new UserScope(s, key.uid, key.id)
  }

  private constructor(
    readonly state: SessionState,
    readonly uid: string,
    readonly id: string,
  ) {}

  /** Runs one store call with this session as the actor; a session found dead is gone after. */
  async #run<T>(op: string, fn: (actor: Actor) => Promise<T>): Promise<T> {
    const rt = this.state.rt
    const actor: Actor = { id: this.id, now: rt.now() }
    try {
      return await rt.call(op, () => fn(actor))
    } catch (err) {
      if (err instanceof SessionRequiredError) this.state.markGone()
      throw err
    }
  }

  async list(): Promise<DeviceSummary[]> {
    const { rt } = this.state
    const list = await this.#run('listUser', (a) => rt.store.listUser(this.uid, a.now, a))
    return Promise.all(
      list.map(async ({ revokedMethods, ...s }) => {
        const { client, amr } = await openMeta(rt, s.client, s.amr, revokedMethods)
        return { ...s, client, amr, current: s.id === this.id }
      }),
    )
  }

  async revoke(id: string): Promise<void> {
    const { rt } = this.state
    await this.#run('destroy', (a) => rt.store.destroy({ id, uid: this.uid }, a))
    rt.emit({ type: 'destroyed', id, uid: this.uid, reason: 'revoked' })
  }

  /** Every session of the user, this one included; the request forgets its session. */
  async destroyAll(): Promise<number> {
    const { rt } = this.state
    const n = await this.#run('destroyUser', (a) =>
      rt.store.destroyUser(this.uid, a.now, { actor: a }),
    )
    rt.emit({ type: 'destroyed', id: this.id, uid: this.uid, reason: 'logout-all' })
    this.state.forget()
    return n
  }

  /** Every other session of the user; this one gets a new secret when the response is sent. */
  async destroyOthers(): Promise<number> {
    const { rt } = this.state
    // a load first: through a rotation alias, the session to keep is the one it points to
    if (!(await load(this.state))) throw new SessionRequiredError()
    const keep = UserScope.of(this.state)
    const n = await keep.#run('destroyUser', (a) =>
      rt.store.destroyUser(keep.uid, a.now, { actor: a, except: keep.id }),
    )
    rt.emit({ type: 'destroyed', id: keep.id, uid: keep.uid, reason: 'logout-others' })
    this.state.regeneration()
    return n
  }

  async hit(
    name: string,
    windowMs: number,
    by: number | undefined,
    limit?: number,
  ): Promise<ReserveResult> {
    const { rt } = this.state
    const { count, allowed, resetMs } = await this.#run('hit', (actor) =>
      rt.store.hit(this.uid, name, { windowMs, by, limit, actor }),
    )
    return { allowed, count, resetMs }
  }

  claimOnce(name: string, ttlMs: number): Promise<boolean> {
    const { rt } = this.state
    return this.#run('claim', (a) => rt.store.claim(this.uid, name, ttlMs, a))
  }

  async readSecret(name: string): Promise<string | null> {
    const { rt } = this.state
    const sealed = await this.#run('getUserValue', (a) => rt.store.getUserValue(this.uid, name, a))
    return sealed === null ? null : rt.ring.openValue(sealed)
  }

  async writeSecret(name: string, value: string | null): Promise<void> {
    const { rt } = this.state
    const sealed = value === null ? null : await rt.ring.sealValue(value)
    await this.#run('setUserValue', (a) => rt.store.setUserValue(this.uid, name, sealed, a))
  }

  /** Roles of every live session of this user; this one regenerates with them. */
  async setRoles(roles: string[]): Promise<number> {
    const { rt } = this.state
    const n = await this.#run('updateUser', (a) =>
      rt.store.updateUser(this.uid, { roles }, a.now, a),
    )
    this.state.regeneration().userRoles = { uid: this.uid, roles }
    return n
  }

  /** `method` stops counting in every session of the user (this one too unless `keepCurrent`). */
  async revokeMethod(method: string, keepCurrent: boolean): Promise<number> {
    const s = this.state
    const except = keepCurrent ? this.id : undefined
    const n = await this.#run('updateUser', (a) =>
      s.rt.store.updateUser(this.uid, { revokeMethods: [method], except }, a.now, a),
    )
    if (!keepCurrent) {
      const base = s.loading ? await s.loading : null
      if (base?.meta.amr) base.meta.amr = base.meta.amr.filter((m) => m !== method)
      if (s.intent.kind === 'regenerate')
        for (const up of s.intent.regen.stepUps) if (up.method === method) up.uid = undefined
    }
    return n
  }
}
