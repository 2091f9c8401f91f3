/**
 * The Redis server's own time, from `INFO commandstats` since the last `CONFIG RESETSTAT`.
 *
 * A script's entry (EVALSHA, EVAL) already includes the time of the commands it runs, and those
 * commands are counted again under their own names (Redis 7.0.15 here: an EVAL of 20,000 SETs
 * reports 39.7 ms for the EVAL and 12.7 ms for the SETs). Summing every entry counts a script's
 * commands twice, so the time of a request is the sum over the commands its client sent (on
 * the wire, as MONITOR shows them), each entry's time taken in the share of its calls that came
 * from the wire. Exact when no command name is both sent and run by a script (every contender
 * by default); otherwise the split assumes the same time per call either way.
 */
export interface CommandStat {
  calls: number
  usec: number
}

/** The bench's own housekeeping: its INFO, CONFIG RESETSTAT and the PING of the idle check. */
const HOUSEKEEPING = new Set(['info', 'config', 'config|resetstat', 'ping'])

/** `INFO commandstats` as calls and microseconds per command name (lower case). */
export function parseCommandStats(info: string): Map<string, CommandStat> {
  const out = new Map<string, CommandStat>()
  for (const m of info.matchAll(/^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/gm)) {
    if (HOUSEKEEPING.has(m[1]!)) continue
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) })
  }
  return out
}

/** Adds `more` into `into` (several measured rounds of one contender). */
export function addCommandStats(into: Map<string, CommandStat>, more: Map<string, CommandStat>) {
  for (const [name, s] of more) {
    const t = into.get(name) ?? { calls: 0, usec: 0 }
    into.set(name, { calls: t.calls + s.calls, usec: t.usec + s.usec })
  }
}

/**
 * How many times each command was sent per request, from a probe's wire log (`onTheWire`:
 * entries such as `evalsha <sha>`) over `requests` requests.
 */
export function sentPerRequest(wire: string[], requests: number): Map<string, number> {
  const counts = new Map<string, number>()
  for (const entry of wire) {
    const name = entry.split(' ', 1)[0]!
    counts.set(name, (counts.get(name) ?? 0) + 1)
  }
  return new Map([...counts].map(([name, n]) => [name, n / requests]))
}

/**
 * The server's microseconds spent on `requests` requests whose clients sent `sent` commands
 * per request: scripts with the commands they ran, each counted once.
 */
export function usecOfRequests(
  stats: Map<string, CommandStat>,
  sent: Map<string, number>,
  requests: number,
): number {
  let usec = 0
  for (const [name, s] of stats) {
    const fromWire = (sent.get(name.split('|', 1)[0]!) ?? 0) * requests
    usec += s.usec * Math.min(1, fromWire / s.calls)
  }
  return usec
}

/** Every call Redis ran, a script counting itself and each command it runs. */
export function totalCalls(stats: Map<string, CommandStat>): number {
  let calls = 0
  for (const s of stats.values()) calls += s.calls
  return calls
}
