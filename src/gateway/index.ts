/**
 * `hono-redis-session/gateway`: an Upstash-REST-compatible HTTP gateway over ioredis (Node only).
 */
export { createGateway } from './app.js'
export type { Gateway, GatewayOptions } from './app.js'
export { UNAUTHORIZED_BODY } from './auth.js'
export type { Access } from './auth.js'
export type { GatewayCommand } from './commands.js'
export { scriptDigest, type ScriptPolicyMode } from './scripts.js'
export { listen } from './server.js'
export type { ListenOptions, RunningGateway } from './server.js'
