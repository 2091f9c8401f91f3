/**
 * A TCP proxy that holds every byte from the server for a fixed time before passing it on: put
 * between a replica and its master (`REPLICAOF 127.0.0.1 <proxy port>`), it makes the replica
 * lag by that much, as a replica across a slow link does, deterministically (the replica is
 * otherwise untouched and answers reads at once). Bytes keep their order; client bytes pass at once.
 */
import net from 'node:net'

export interface LagProxy {
  port: number
  close(): Promise<void>
}

export async function startLagProxy(target: { host: string; port: number }, delayMs: number) {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => {
        client.destroy()
        upstream.destroy()
      })
    }
    client.pipe(upstream)
    // timers of one duration fire in the order they were set: the stream stays in order
    upstream.on('data', (chunk: Buffer) => {
      setTimeout(() => client.destroyed || client.write(chunk), delayMs)
    })
    upstream.on('end', () => setTimeout(() => client.end(), delayMs))
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy()
        server.close(() => resolve())
      }),
  } satisfies LagProxy
}
