import type { Cluster, Redis } from 'ioredis'
import { parseKeyName, userItemKeyName, type UserItemKind } from '../store/redis/layout.js'

/**
 * Per-user items in backups: the plain strings the stores keep in a user's slot at
 * `<prefix>{<uid>}:<kind>:<name>`, one JSON line each:
 * `{"v":1,"type":"item","key":"sess:{alice}:v:totp","uid":"alice","item":"v","name":"totp","value":"<as stored>","pttl":-1,"at":<ms>}`
 * - `item`: `v` value (e.g. a TOTP secret, already sealed with the key ring: copied as is, never
 *   opened), `c` single-use claim (anti-replay), `h` fixed-window hit counter (rate limits);
 * - `pttl`: remaining TTL in milliseconds when read, `-1` for none (values have none; claims
 *   and counters always have one), `at`: when it was read (epoch ms).
 */
export interface ItemLine {
  v: 1
  type: 'item'
  key: string
  uid: string
  item: UserItemKind
  name: string
  value: string
  pttl: number
  at: number
}

/** An item key found by SCAN, already parsed. */
export interface ItemKey {
  key: string
  uid: string
  item: UserItemKind
  name: string
}

/**
 * Recognises a per-user item key written by the stores; `null` for anything else (sessions,
 * indexes, foreign keys, or a uid not in the stores' canonical encoding).
 */
export function itemKey(prefix: string, key: string): ItemKey | null {
  const parsed = parseKeyName(prefix, key)
  if (parsed?.kind !== 'item') return null
  // A uid spelt differently from what the stores write is not one of ours (and would not match
  // the layout check on import).
  if (key !== userItemKeyName(prefix, parsed.uid, parsed.item, parsed.name)) return null
  return { key, uid: parsed.uid, item: parsed.item, name: parsed.name }
}

const UTF8 = new TextDecoder('utf-8', { fatal: true })

/**
 * The export line of one item from its GET (as bytes) and PTTL replies, or `null` to skip it:
 * gone meanwhile, expiring right now, not a string, or not text (the stores only write text, and
 * a JSON string could not carry other bytes unchanged).
 */
export function itemLine(
  k: ItemKey,
  value: Buffer | null,
  pttl: number,
  at: number,
): ItemLine | null {
  if (value === null || !(pttl === -1 || pttl > 0)) return null
  let text: string
  try {
    text = UTF8.decode(value)
  } catch {
    return null
  }
  return { v: 1, type: 'item', ...k, value: text, pttl, at }
}

const KINDS: readonly string[] = ['h', 'c', 'v']

/** Checks a parsed item line; returns it, or a description of what is wrong. */
export function checkItemLine(value: Record<string, unknown>, prefix: string): ItemLine | string {
  const line = value as Partial<ItemLine>
  if (typeof line.key !== 'string' || typeof line.uid !== 'string' || typeof line.name !== 'string')
    return '"key", "uid" and "name" must be strings'
  if (typeof line.item !== 'string' || !KINDS.includes(line.item))
    return '"item" must be "h", "c" or "v"'
  if (line.name === '' || line.key !== userItemKeyName(prefix, line.uid, line.item, line.name)) {
    return `"key" does not match the item layout for this uid, item and name under prefix "${prefix}"`
  }
  if (typeof line.value !== 'string') return '"value" must be a string'
  // INCRBY on a restored counter would fail on anything else
  if (line.item === 'h' && !/^-?\d{1,18}$/.test(line.value))
    return 'a hit counter ("item": "h") must hold an integer'
  if (!Number.isSafeInteger(line.pttl) || !Number.isSafeInteger(line.at))
    return '"pttl" and "at" must be integers'
  if (line.pttl !== -1 && line.pttl! <= 0)
    return '"pttl" must be -1 (no expiry) or a positive number of milliseconds'
  return line as ItemLine
}

/**
 * Restores one item with its remaining TTL (minus the time since `at`; none for `-1`), only if
 * the key is absent unless `replace`. One SET routed by the key, so on Cluster it lands in the
 * user's slot. Resolves with what happened.
 */
export async function restoreItem(
  client: Redis | Cluster,
  line: ItemLine,
  replace: boolean,
  now: number,
): Promise<'written' | 'kept' | 'expired'> {
  const pttl = line.pttl === -1 ? -1 : line.pttl - Math.max(0, now - line.at)
  if (line.pttl !== -1 && pttl <= 0) return 'expired'
  const args = [
    line.key,
    line.value,
    ...(pttl === -1 ? [] : ['PX', String(pttl)]),
    ...(replace ? [] : ['NX']),
  ]
  // SET with PX and NX in one command (Redis 2.6.12+): no window without a TTL
  const reply = await client.call('SET', ...args)
  return reply === 'OK' ? 'written' : 'kept'
}
