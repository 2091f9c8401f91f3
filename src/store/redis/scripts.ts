import { claim } from './claim.js'
import { commit } from './commit.js'
import { create } from './create.js'
import { destroyUser } from './destroy-user.js'
import { destroy } from './destroy.js'
import { hit } from './hit.js'
import { listUser } from './list-user.js'
import { load } from './load.js'
import type { LuaScript } from './prelude.js'
import { restore } from './restore.js'
import { rotate } from './rotate.js'
import { sweep } from './sweep.js'
import { updateUser } from './update-user.js'
import { getUserValue } from './user-value.js'

/**
 * Every script of the session stores and of the ops CLI (restore, sweep), by operation: for
 * checks over all of them (Redis 6.0 commands only) and for callers that must know their
 * digests (the gateway's script policy).
 */
export const SCRIPTS = {
  load: load.script,
  commit: commit.script,
  create: create.script,
  destroy: destroy.script,
  destroyUser: destroyUser.script,
  listUser: listUser.script,
  rotate: rotate.script,
  updateUser: updateUser.script,
  hit: hit.script,
  claim: claim.script,
  userValue: getUserValue.script,
  restore: restore.script,
  sweep: sweep.script,
} as const satisfies Record<string, LuaScript>
