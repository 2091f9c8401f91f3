/**
 * At-rest sealing (`encryptAtRest`): field values under the session's own data key (from the
 * token), the client hint and the methods under the key ring (so "my devices" can list them for
 * every session of the user while a dump of the store shows neither).
 */
import { fieldCipher } from '../at-rest.js'
import { SessionStateError } from '../errors.js'
import type { SessionRuntime } from '../runtime.js'
import type { SessionMeta, StoredSession } from '../store/types.js'

type Sealer = Pick<SessionRuntime, 'encryptAtRest' | 'ring'>

/** Field values as the store keeps them: sealed under `dk` when encrypting at rest. */
export async function sealFields(
  rt: Sealer,
  fields: Record<string, string>,
  dk: string | undefined,
): Promise<Record<string, string>> {
  if (!rt.encryptAtRest) return fields
  if (dk === undefined) throw new SessionStateError('encryptAtRest: the token carries no data key')
  const cipher = await fieldCipher(dk)
  const out: Record<string, string> = {}
  for (const [name, text] of Object.entries(fields)) out[name] = await cipher.seal(name, text)
  return out
}

/**
 * A loaded session as the rest of the request sees it: values opened when encrypting at rest
 * (a value not sealed under this session's key is dropped), the client hint and methods opened,
 * and revoked methods taken out of `amr`.
 */
export async function openSession(
  rt: Sealer,
  session: StoredSession,
  dk: string | undefined,
): Promise<StoredSession> {
  const { revokedMethods, ...rest } = session.meta
  const { client, amr } = await openMeta(rt, rest.client, rest.amr, revokedMethods)
  const meta: SessionMeta = { ...rest, client, amr }
  if (!rt.encryptAtRest) return { fields: session.fields, meta }
  // A token minted before encryption was turned on has no data key: its values are unreadable.
  if (dk === undefined) return { fields: {}, meta }
  const cipher = await fieldCipher(dk)
  const fields: Record<string, string> = {}
  for (const [name, sealed] of Object.entries(session.fields)) {
    const text = await cipher.open(name, sealed)
    if (text !== undefined) fields[name] = text
  }
  return { fields, meta }
}

/** The metadata as stored: the methods travel as a one-element list of their sealed JSON. */
export async function sealMeta(rt: Sealer, meta: SessionMeta): Promise<SessionMeta> {
  if (!rt.encryptAtRest) return meta
  const ring = rt.ring
  return {
    ...meta,
    client: meta.client === undefined ? undefined : await ring.sealValue(meta.client),
    amr: meta.amr === undefined ? undefined : [await ring.sealValue(JSON.stringify(meta.amr))],
  }
}

/** The client hint and the methods that count, from what the store holds (see {@link sealMeta}). */
export async function openMeta(
  rt: Sealer,
  client: string | undefined,
  amr: string[] | undefined,
  revoked: string[] | undefined,
): Promise<{ client: string | undefined; amr: string[] | undefined }> {
  if (rt.encryptAtRest) {
    client = client === undefined ? undefined : ((await rt.ring.openValue(client)) ?? undefined)
    const text = amr?.length === 1 ? await rt.ring.openValue(amr[0]!) : null
    amr = text === null ? undefined : methodList(text)
  }
  if (revoked && amr) amr = amr.filter((m) => !revoked.includes(m))
  return { client, amr }
}

/** Methods opened from their sealed JSON text; an unreadable list counts as none. */
function methodList(text: string): string[] | undefined {
  try {
    const list: unknown = JSON.parse(text)
    if (Array.isArray(list) && list.every((m) => typeof m === 'string')) return list
  } catch {
    // not ours
  }
  return undefined
}
