/** One contender in one variant: the figures of bench/results.json. */
export interface Row {
  contender: string
  variant: string
  rps: number
  p50Ms: number
  p99Ms: number
  redisCommandsPerRequest: number
  bytesPerSession: number | null
  cpuMsPerRequest: number
  /** false for the cookie-based contenders, which keep the session in the cookie. */
  storesInRedis: boolean
}

/** The Markdown table (with ratios to the floor and to express-session) and the JSON rows. */
export function report(
  rows: Row[],
  run: { quick: boolean; rounds: number; seconds: number; connections: number },
) {
  const lines = [
    `# Benchmark results${run.quick ? ' (quick mode: not for comparison)' : ''}`,
    '',
    `${run.rounds} round(s) of ${run.seconds} s per contender and variant, ${run.connections} connections, medians; one redis-server, every server in its own process, on ${new Date().toISOString()}.`,
    '',
    '| variant | contender | req/s | p50 ms | p99 ms | x floor | x express-session | Redis cmds/req | bytes/session | CPU ms/req |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    // get() + set() does the write variant's work: compare it with the same baselines
    const variant = r.variant === 'write-get-set' ? 'write' : r.variant
    const floor = rows.find((x) => x.variant === variant && x.contender === 'floor')
    const express = rows.find(
      (x) => x.variant === variant && x.contender === 'express-session-connect-redis',
    )
    const ratio = (base?: Row) => (base ? (r.rps / base.rps).toFixed(2) : '-')
    const name = r.storesInRedis
      ? r.contender
      : `${r.contender} (${r.contender.startsWith('this-') ? 'in process' : 'cookie'}, not in Redis)`
    lines.push(
      `| ${r.variant} | ${name} | ${Math.round(r.rps)} | ${r.p50Ms} | ${r.p99Ms} | ${ratio(floor)} | ${ratio(express)} | ${r.redisCommandsPerRequest} | ${r.bytesPerSession ?? '-'} | ${r.cpuMsPerRequest} |`,
    )
  }
  const json = rows.map(({ storesInRedis: _ignored, ...r }) => r)
  return { markdown: lines.join('\n') + '\n', json }
}
