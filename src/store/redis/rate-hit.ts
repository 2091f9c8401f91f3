import type { HitResult, RateHitOptions } from '../types.js'
import { hit } from './hit.js'
import { rateKeyName } from './layout.js'
import type { Operation } from './operation.js'
import { int } from './replies.js'

/**
 * `rateHit`: the fixed-window check-and-count of `hit` (the same script, so no second script to
 * load or register), on a rate limit key outside every user's slot, with no acting session.
 * One key, so one slot on Cluster.
 */
export const rateHit: Operation<[string, RateHitOptions], HitResult> = {
  script: hit.script,
  layout(prefix, key, o) {
    return {
      keys: [rateKeyName(prefix, key)],
      args: [int(o.windowMs), int(o.by ?? 1), int(o.limit), ''],
    }
  },
  decode: (reply) => hit.decode(reply, '', '', { windowMs: 0 }),
}
