import { spawn } from 'node:child_process'
import { createServer, type Socket } from 'node:net'
import { createInterface } from 'node:readline'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The gateway (real redis-server behind it) on 127.0.0.1. */
    gatewayUrl: string
    gatewayToken: string
    /** A loopback endpoint that accepts connections and never answers (timeout tests). */
    blackHoleUrl: string
    /** A gateway in front of a 3+3 Redis Cluster (same token). */
    gatewayClusterUrl: string
    /** The demo on Node, on the same Redis as `gatewayUrl`, with the key ring `sessionKeys`. */
    nodeDemoUrl: string
    sessionKeys: string
  }
}

/**
 * Runs on the Node side before the workerd tests: starts `gateway-process.ts` (a real
 * redis-server and the project's gateway on loopback) and a black-hole endpoint, and hands
 * their URLs to the tests, which fetch them from inside workerd.
 *
 * The gateway runs in a plain Node process: this file is loaded through the Worker pool's
 * module resolution, under which ioredis does not load (`Redis is not a constructor`).
 */
export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/workerd/gateway-process.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('gateway process did not start in 60 s')),
      60_000,
    )
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
  })
  const started = JSON.parse(line) as {
    url: string
    token: string
    clusterUrl: string
    nodeDemoUrl: string
    sessionKeys: string
  }
  project.provide('gatewayUrl', started.url)
  project.provide('gatewayToken', started.token)
  project.provide('gatewayClusterUrl', started.clusterUrl)
  project.provide('nodeDemoUrl', started.nodeDemoUrl)
  project.provide('sessionKeys', started.sessionKeys)

  const held = new Set<Socket>()
  const hole = createServer((socket) => {
    held.add(socket)
    socket.on('error', () => {})
    socket.on('close', () => held.delete(socket))
  })
  await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve))
  project.provide('blackHoleUrl', `http://127.0.0.1:${(hole.address() as { port: number }).port}`)

  return async () => {
    for (const socket of held) socket.destroy()
    await new Promise((resolve) => hole.close(resolve))
    await new Promise<void>((resolve) => {
      child.removeAllListeners('exit')
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
  }
}
