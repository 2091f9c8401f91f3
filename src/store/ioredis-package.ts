/**
 * ioredis, an optional peer dependency. Every module that needs its classes at run time takes
 * them from here (types may come from 'ioredis' directly: they vanish from the built code), so
 * an app without it fails at import with the package to install rather than ERR_MODULE_NOT_FOUND.
 */
import type * as IORedis from 'ioredis'
import { importPeer } from '../util/peer.js'

const ioredis = await importPeer(
  'ioredis',
  "hono-redis-session/ioredis, hono-redis-session/gateway and the CLI's Redis commands",
  () => import('ioredis'),
)

export const { Cluster, Command, Redis, ReplyError } = ioredis
export type Cluster = IORedis.Cluster
export type Command = IORedis.Command
export type Redis = IORedis.Redis
