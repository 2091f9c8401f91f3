import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { TestProject } from 'vitest/node'

declare module 'vitest' {
  export interface ProvidedContext {
    gatewayUrl: string
    gatewayToken: string
  }
}

/**
 * Runs on the Node side before the workerd tests: starts `gateway-process.ts` (a real
 * redis-server and the project's gateway on loopback) and hands its URL to the tests, which
 * fetch it from inside workerd.
 */
export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/workerd/gateway-process.ts'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('gateway process did not start in 20 s')),
      20_000,
    )
    child.once('exit', (code) => reject(new Error(`gateway process exited with ${code}`)))
    createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(timer)
      resolve(l)
    })
  })
  const { url, token } = JSON.parse(line) as { url: string; token: string }
  project.provide('gatewayUrl', url)
  project.provide('gatewayToken', token)
  return () =>
    new Promise<void>((resolve) => {
      child.removeAllListeners('exit')
      child.once('exit', () => resolve())
      child.kill('SIGTERM')
    })
}
