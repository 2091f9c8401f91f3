import { afterAll, describe, expect, it } from 'vitest'
import { startCluster, startRedis, startSentinelGroup, stopAll } from '../helpers/redis.js'

afterAll(stopAll)

/** True while a process with this pid exists (signal 0 only checks). */
function alive(pid: number | undefined): boolean {
  if (!pid) return false
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

describe('test/helpers/redis', () => {
  it('stops, kills and restarts a standalone server on the same port, keeping AOF data', async () => {
    const server = await startRedis({ persistence: 'aof-everysec' })
    const { port } = server
    expect(server.url).toBe(`redis://127.0.0.1:${port}`)
    expect(await server.cli('SET', 'k1', 'v1')).toBe('OK')

    const firstPid = server.pid()
    await server.stop()
    expect(alive(firstPid)).toBe(false)
    await server.stop() // idempotent
    await server.start()
    expect(server.port).toBe(port)
    expect(await server.cli('GET', 'k1')).toBe('v1')

    // appendfsync everysec: a write older than a second survives a crash.
    expect(await server.cli('SET', 'k2', 'v2')).toBe('OK')
    await new Promise((r) => setTimeout(r, 1200))
    const secondPid = server.pid()
    await server.kill()
    expect(alive(secondPid)).toBe(false)
    await server.start()
    expect(await server.cli('MGET', 'k1', 'k2')).toBe('v1\nv2')
    await server.stop()
  })

  it('runs each persistence mode as configured (the server, not the helper, says so)', async () => {
    const rdb = await startRedis({ persistence: 'rdb' })
    expect(await rdb.cli('CONFIG', 'GET', 'save')).toBe('save\n1 1')
    expect(await rdb.cli('CONFIG', 'GET', 'appendonly')).toBe('appendonly\nno')
    await rdb.stop()
    const aof = await startRedis({ persistence: 'aof-always' })
    expect((await aof.cli('CONFIG', 'GET', 'save')).trim()).toBe('save')
    expect(await aof.cli('CONFIG', 'GET', 'appendfsync')).toBe('appendfsync\nalways')
    await aof.stop()
  })

  it('starts a password-protected server', async () => {
    const server = await startRedis({ password: 'p w' })
    expect(await server.cli('PING')).toBe('PONG')
    await server.stop()
  })

  it('fails over a Sentinel group when the master is killed', async () => {
    const group = await startSentinelGroup()
    try {
      const before = await group.currentMaster()
      expect(before.port).toBe(group.master.port)
      await group.master.kill()
      const killedAt = Date.now()
      let after = before
      while (after.port === before.port && Date.now() - killedAt < 15_000) {
        await new Promise((r) => setTimeout(r, 100))
        after = await group.currentMaster()
      }
      const seconds = (Date.now() - killedAt) / 1000
      console.info(`sentinel failover seen after ${seconds.toFixed(1)} s`)
      expect(after.port).not.toBe(before.port)
      expect(after.port).toBe(group.replicas[0]!.port)
    } finally {
      const pids = [...group.sentinels, ...group.replicas, group.master].map((s) => s.pid())
      await group.stop()
      expect(pids.filter(alive)).toEqual([])
    }
  })

  it('creates a healthy cluster of 3 masters and 3 replicas and stops it without leftovers', async () => {
    const cluster = await startCluster()
    const pids = cluster.nodes.map((n) => n.pid())
    try {
      expect(cluster.masters).toHaveLength(3)
      expect(cluster.replicas).toHaveLength(3)
      expect(cluster.startupNodes).toHaveLength(6)
      for (const node of cluster.nodes) {
        expect(await node.cli('CLUSTER', 'INFO')).toContain('cluster_state:ok')
      }
      expect(pids.every(alive)).toBe(true)
    } finally {
      await cluster.stop()
    }
    expect(pids.filter(alive)).toEqual([])
  })
})
