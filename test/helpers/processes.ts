/**
 * Child processes as a user starts them: servers in their own process group (stopped by the
 * group's id, so a child such as wrangler's workerd never keeps the port) and one-shot commands
 * whose exit code and output a test reads.
 */
import { execFile, spawn } from 'node:child_process'
import { promisify } from 'node:util'

/**
 * This process's environment without what changes module resolution (NODE_PATH, NODE_OPTIONS)
 * or tells a nested vitest it runs inside this one (VITEST*).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const { NODE_PATH: _path, NODE_OPTIONS: _options, ...env } = process.env
  for (const name of Object.keys(env)) if (name.startsWith('VITEST')) delete env[name]
  return { ...env, ...extra }
}

export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `cmd args` to its end: exit code and output (never throws; a timeout kills it). */
export async function run(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeout?: number },
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await promisify(execFile)(cmd, args, {
      cwd: options.cwd,
      env: options.env ?? cleanEnv(),
      timeout: options.timeout ?? 20_000,
      maxBuffer: 16 * 1024 * 1024,
    })
    return { code: 0, stdout, stderr }
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string; message: string }
    return {
      code: typeof e.code === 'number' ? e.code : 1,
      stdout: e.stdout ?? '',
      stderr: e.stderr || e.message,
    }
  }
}

/** A server process started by {@link startServer}. */
export interface ServerProcess {
  pid: number
  /** Everything it printed so far, stdout and stderr. */
  output(): string
  /** True once it exited. */
  exited(): boolean
  /** SIGTERM to its process group, SIGKILL after 5 s; resolves when it exited. Idempotent. */
  stop(): Promise<void>
}

/** Every server started here and not yet stopped, for {@link stopServers} and the exit hook. */
const live = new Set<ServerProcess>()

process.on('exit', () => {
  // Last resort for a test file that forgot stopServers(): no server outlives the run.
  for (const server of live) killGroup(server.pid, 'SIGKILL')
})

function killGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal)
  } catch {
    // already gone
  }
}

/** Starts `cmd args` detached, in a process group of its own, collecting its output. */
export function startServer(
  cmd: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): ServerProcess {
  const child = spawn(cmd, args, {
    cwd: options.cwd,
    env: options.env ?? cleanEnv(),
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d) => (output += d))
  child.stderr!.on('data', (d) => (output += d))
  let gone = false
  const exit = new Promise<void>((resolve) => {
    child.once('exit', () => resolve())
    child.once('error', (err) => {
      output += String(err)
      resolve()
    })
  }).then(() => {
    gone = true
    // The leader is gone; its children (workerd) may still be in the group.
    killGroup(child.pid!, 'SIGKILL')
  })
  const server: ServerProcess = {
    pid: child.pid!,
    output: () => output,
    exited: () => gone,
    async stop() {
      live.delete(server)
      if (!gone) {
        killGroup(child.pid!, 'SIGTERM')
        const timer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), 5000)
        await exit
        clearTimeout(timer)
      }
    },
  }
  if (child.pid === undefined) throw new Error(`${cmd} did not start`)
  live.add(server)
  return server
}

/** Stops every server {@link startServer} started and that is still running. */
export async function stopServers(): Promise<void> {
  await Promise.all([...live].map((s) => s.stop()))
}

/**
 * Polls `url` until it answers (any status) and returns that response; fails with the
 * server's output when it exits first or `ms` pass.
 */
export async function waitForHttp(
  url: string,
  ms: number,
  server?: ServerProcess,
  init: RequestInit = {},
): Promise<Response> {
  const until = Date.now() + ms
  let last: unknown
  while (Date.now() < until) {
    if (server?.exited()) break
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(2000) })
    } catch (err) {
      last = err
      await new Promise((r) => setTimeout(r, 200))
    }
  }
  const why = server?.exited() ? 'the server exited' : `no answer within ${ms} ms`
  throw new Error(`${url}: ${why} (${String(last)})\n--- output ---\n${server?.output() ?? ''}`)
}
