/**
 * The package root on Node (the `node` export condition): everything `./index.ts` exports, with
 * tokens sealed and opened and session ids hashed by `node:crypto` instead of WebCrypto
 * (synchronous: no hop through the libuv thread pool), and the session's `Cache-Control` and
 * `Set-Cookie` written to Node's server response under `@hono/node-server`. Bundles for
 * workerd, Deno's browser-like targets and browsers resolve the default condition and never
 * see this file.
 */
import { nodeCrypto } from './crypto/node.js'
import { useCryptoBackend } from './crypto/backend.js'
import { nodeResponseHeaders } from './node-response.js'
import { useNativeHeaders } from './response-headers.js'

useCryptoBackend(nodeCrypto)
useNativeHeaders(nodeResponseHeaders)

export * from './index.js'
