/**
 * Turns an HTTP request into Redis commands: bounded body reading, JSON shape checks and the
 * Upstash path form (`/set/key/value`, POST body as the last argument). Every problem becomes a
 * `RequestProblem` with a 4xx status; nothing is executed for a request that fails here.
 */
import type { GatewayCommand } from './commands.js'

/** A client error found before anything ran. */
export class RequestProblem extends Error {
  constructor(
    readonly status: 400 | 413,
    message: string,
  ) {
    super(message)
    this.name = 'RequestProblem'
  }
}

/** Limits applied while parsing. */
export interface RequestLimits {
  /** Largest body, bytes. */
  maxBodyBytes: number
  /** Most commands in one pipeline or transaction, and most elements in one command. */
  maxArrayLength: number
}

function tooLarge(maxBodyBytes: number): RequestProblem {
  return new RequestProblem(413, `ERR request body exceeds the limit of ${maxBodyBytes} bytes`)
}

/**
 * Reads the body as bytes, refusing it as soon as it is known to exceed `maxBodyBytes`:
 * from `Content-Length` when the client declared one (HTTP then frames the body by it), else
 * by counting while reading (chunked bodies).
 */
export async function readBody(request: Request, maxBodyBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBodyBytes) throw tooLarge(maxBodyBytes)
  if (declared !== null && /^\d+$/.test(declared)) {
    // HTTP frames the body by its declared length, within the limit: read it in one go
    // (on @hono/node-server straight from the socket, without building a web stream)
    const body = new Uint8Array(
      await request.arrayBuffer().catch(() => {
        // the client left mid-body: no one reads the answer, but it is not the gateway's error
        throw new RequestProblem(400, 'ERR the request body ended before its Content-Length')
      }),
    )
    if (body.byteLength > maxBodyBytes) throw tooLarge(maxBodyBytes)
    return body
  }
  if (!request.body) return new Uint8Array(0)
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBodyBytes) {
      await reader.cancel().catch(() => {})
      throw tooLarge(maxBodyBytes)
    }
    chunks.push(value)
  }
  const body = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    body.set(chunk, offset)
    offset += chunk.byteLength
  }
  return body
}

/** Strict UTF-8 (invalid bytes throw); one for every request: decode() without streaming keeps no state. */
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Parses a JSON body; any syntax error (or invalid UTF-8) is a 400. */
export function parseJson(body: Uint8Array): unknown {
  if (body.byteLength === 0)
    throw new RequestProblem(400, 'ERR empty request body: expected a JSON array')
  try {
    return JSON.parse(utf8.decode(body))
  } catch {
    throw new RequestProblem(400, 'ERR request body is not valid JSON')
  }
}

/** One argument as Redis receives it: strings as is, numbers and booleans as their JSON text. */
function toArgument(value: unknown, where: string): string {
  switch (typeof value) {
    case 'string':
      return value
    case 'number':
      return String(value)
    case 'boolean':
      return value ? 'true' : 'false'
    default: {
      const kind =
        value === null ? 'null' : Array.isArray(value) ? 'an array' : `an ${typeof value}`
      throw new RequestProblem(
        400,
        `ERR ${where} is ${kind}: arguments must be strings, numbers or booleans`,
      )
    }
  }
}

/** Validates one command array such as `["SET","k","v"]`. */
export function toCommand(
  value: unknown,
  limits: RequestLimits,
  label = 'command',
): GatewayCommand {
  if (!Array.isArray(value))
    throw new RequestProblem(400, `ERR ${label} must be a JSON array such as ["GET","key"]`)
  if (value.length === 0) throw new RequestProblem(400, `ERR ${label} is an empty array`)
  if (value.length > limits.maxArrayLength) {
    throw new RequestProblem(
      400,
      `ERR ${label} has ${value.length} elements; the limit is ${limits.maxArrayLength}`,
    )
  }
  const [name, ...rest] = value
  if (typeof name !== 'string' || name.length === 0) {
    throw new RequestProblem(400, `ERR ${label}: the command name must be a non-empty string`)
  }
  return {
    name: name.toUpperCase(),
    args: rest.map((arg, i) => toArgument(arg, `argument ${i + 1} of ${label}`)),
  }
}

/** Validates a pipeline or transaction body: an array of command arrays. */
export function toCommandList(value: unknown, limits: RequestLimits): GatewayCommand[] {
  if (!Array.isArray(value) || !value.every(Array.isArray)) {
    throw new RequestProblem(
      400,
      'ERR body must be a JSON array of command arrays such as [["SET","k","v"],["GET","k"]]',
    )
  }
  if (value.length === 0) throw new RequestProblem(400, 'ERR no commands given')
  if (value.length > limits.maxArrayLength) {
    throw new RequestProblem(
      400,
      `ERR ${value.length} commands given; the limit is ${limits.maxArrayLength}`,
    )
  }
  return value.map((command, i) => toCommand(command, limits, `command ${i + 1}`))
}

/**
 * The Upstash path form: `/{cmd}/{arg}/...` with percent-decoded segments, then (POST/PUT) the
 * raw body as one more argument, then each query parameter as `name` and, when not empty, `value`
 * (`POST /set/k?EX=100` with body `v` is `SET k v EX 100`).
 */
export function commandFromPath(
  url: URL,
  body: Uint8Array | null,
  limits: RequestLimits,
): GatewayCommand {
  const segments = url.pathname.split('/').slice(1)
  if (segments.length > 1 && segments[segments.length - 1] === '') segments.pop()
  let parts: string[]
  try {
    parts = segments.map((s) => decodeURIComponent(s))
  } catch {
    throw new RequestProblem(400, 'ERR malformed percent-encoding in the URL path')
  }
  if (body !== null && body.byteLength > 0) {
    try {
      parts.push(utf8.decode(body))
    } catch {
      throw new RequestProblem(400, 'ERR request body is not valid UTF-8')
    }
  }
  for (const [name, value] of url.searchParams) {
    if (name === '_token') continue // never a Redis argument (and never accepted as a credential)
    parts.push(name)
    if (value !== '') parts.push(value)
  }
  return toCommand(parts, limits)
}
