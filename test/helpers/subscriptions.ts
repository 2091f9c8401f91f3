/**
 * Subscriptions through the gateway, as the tests watch them: the official client's events, and
 * the connections the real redis-server processes hold.
 */
import type { Redis as Upstash } from '@upstash/redis'
import type { RedisServer } from './redis.js'

type Subscriber = ReturnType<Upstash['subscribe']>

/** Polls `check` every 20 ms, at most `tries` times; throws naming `what` if it never held. */
export async function until(
  check: () => boolean | Promise<boolean>,
  what: string,
  tries = 500,
): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`never happened: ${what}`)
}

/** Everything one official-client subscriber dispatched, in order. */
export interface Recorded {
  sub: Subscriber
  /** `subscribe` / `psubscribe` counts. */
  confirmations: number[]
  /** `unsubscribe` / `punsubscribe` counts. */
  ends: number[]
  messages: { channel: string; message: unknown; pattern?: string }[]
  errors: Error[]
}

/** Starts `subscribe(channel)` or `psubscribe(pattern)` with the official client and records it. */
export function record(u: Upstash, kind: 'subscribe' | 'psubscribe', name: string): Recorded {
  const sub = kind === 'subscribe' ? u.subscribe(name) : u.psubscribe(name)
  const r: Recorded = { sub, confirmations: [], ends: [], messages: [], errors: [] }
  sub.on(kind, (count) => r.confirmations.push(count))
  sub.on(kind === 'subscribe' ? 'unsubscribe' : 'punsubscribe', (count) => r.ends.push(count))
  sub.on('error', (error) => r.errors.push(error))
  if (kind === 'subscribe') sub.on('message', (m) => r.messages.push(m))
  else sub.on('pmessage', (m) => r.messages.push(m))
  return r
}

/** Records and waits until Redis confirmed the subscription (or the gateway refused it). */
export async function subscribed(
  u: Upstash,
  kind: 'subscribe' | 'psubscribe',
  name: string,
): Promise<Recorded> {
  const r = record(u, kind, name)
  await until(() => r.confirmations.length > 0 || r.errors.length > 0, `${kind} ${name}`)
  return r
}

/** Connections in subscriber mode, over the given servers (`CLIENT LIST TYPE pubsub`). */
export async function pubsubConnections(servers: RedisServer[]): Promise<number> {
  const lists = await Promise.all(servers.map((s) => s.cli('CLIENT', 'LIST', 'TYPE', 'pubsub')))
  return lists.reduce((n, list) => n + list.split('\n').filter((l) => l.includes('id=')).length, 0)
}

/** Every client connection over the given servers, redis-cli's own excluded. */
export async function connectedClients(servers: RedisServer[]): Promise<number> {
  const infos = await Promise.all(servers.map((s) => s.cli('INFO', 'clients')))
  return infos.reduce((n, info) => n + Number(/connected_clients:(\d+)/.exec(info)![1]) - 1, 0)
}
