/**
 * The package root on Node (the `node` export condition): everything `./index.ts` exports, with
 * tokens sealed and opened and session ids hashed by `node:crypto` instead of WebCrypto
 * (synchronous: no hop through the libuv thread pool). Bundles for workerd, Deno's browser-like
 * targets and browsers resolve the default condition and never see this file.
 */
import { nodeCrypto } from './crypto/node.js'
import { useCryptoBackend } from './crypto/backend.js'

useCryptoBackend(nodeCrypto)

export * from './index.js'
