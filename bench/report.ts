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
  /** The Redis server's own time per request (INFO commandstats over the measured rounds). */
  redisUsecPerRequest: number
  /** Commands Redis executed per request over the measured rounds (MONITOR counts the probe). */
  redisCallsPerRequest: number
  /** false for the cookie-based contenders, which keep the session in the cookie. */
  storesInRedis: boolean
  /** Median over the rounds of rps / the floor's rps in the same round; null without a floor. */
  xFloor: number | null
  /** The same against express-session + connect-redis. */
  xExpressSession: number | null
  /** The same against better-auth (the variants it runs: read, login). */
  xBetterAuth: number | null
}

/** Variants compared with the baselines of another (the same work done differently). */
const BASELINE_OF: Record<string, string> = { 'write-get-set': 'write' }

/** The Markdown table (with ratios to the floor and to express-session) and the JSON rows. */
export function report(
  rows: Row[],
  run: { quick: boolean; rounds: number; seconds: number; connections: number },
) {
  const lines = [
    `# Benchmark results${run.quick ? ' (quick mode: not for comparison)' : ''}`,
    '',
    `${run.rounds} round(s) of ${run.seconds} s per contender and variant, ${run.connections} connections, medians; one redis-server, every server in its own process, on ${new Date().toISOString()}. Ratios are medians of the ratios within each round. A \`login\` iteration is two requests (login, then logout); its figures are per request.`,
    '',
    '| variant | contender | req/s | p50 ms | p99 ms | x floor | x express-session | Redis cmds/req | Redis µs/req | bytes/session | CPU ms/req |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  for (const r of rows) {
    const base = BASELINE_OF[r.variant]
    const baseline = (contender: string) =>
      base ? rows.find((x) => x.variant === base && x.contender === contender) : undefined
    // write-get-set ran in its own set of rounds: compare it with the write variant's medians
    const xFloor = base ? ratio(r, baseline('floor')) : r.xFloor
    const xExpress = base ? ratio(r, baseline('express-session-connect-redis')) : r.xExpressSession
    const name = r.storesInRedis
      ? r.contender
      : `${r.contender} (${r.contender.startsWith('this-') ? 'in process' : 'cookie'}, not in Redis)`
    lines.push(
      `| ${r.variant} | ${name} | ${Math.round(r.rps)} | ${r.p50Ms} | ${r.p99Ms} | ${show(xFloor)} | ${show(xExpress)} | ${r.redisCommandsPerRequest} | ${r.redisUsecPerRequest} | ${r.bytesPerSession ?? '-'} | ${r.cpuMsPerRequest} |`,
    )
  }
  const against = rows.filter((r) => r.xBetterAuth !== null && r.contender !== 'better-auth')
  if (against.length) {
    lines.push(
      '',
      "Against better-auth, in the variants it runs (req/s over better-auth's in the same round, median):",
      '',
      '| variant | contender | x better-auth |',
      '| --- | --- | ---: |',
      ...against.map((r) => `| ${r.variant} | ${r.contender} | ${show(r.xBetterAuth)} |`),
    )
  }
  const json = rows.map(
    ({ storesInRedis: _s, xFloor: _f, xExpressSession: _e, xBetterAuth: _b, ...r }) =>
      r as Omit<Row, 'storesInRedis' | 'xFloor' | 'xExpressSession' | 'xBetterAuth'>,
  )
  return { markdown: lines.join('\n') + '\n', json }
}

function ratio(r: Row, base: Row | undefined): number | null {
  return base ? Math.round((r.rps / base.rps) * 100) / 100 : null
}

function show(x: number | null): string {
  return x === null ? '-' : x.toFixed(2)
}
