/**
 * Arguments the gateway refuses in commands it otherwise runs: those that would block the
 * shared connection (`BLOCK`, `WAIT` without a bound), reach another database (`COPY ... DB`),
 * or make one request build a reply of any size (counts beyond `GATEWAY_MAX_COUNT`:
 * `HRANDFIELD key -3000000 WITHVALUES` took a gateway from 88 MB to 777 MB).
 */

/** A validated command (`GatewayCommand` of commands.ts, which imports this module). */
interface Command {
  name: string
  args: string[]
}

/** Commands whose second argument is a count (negative: with repeats, as large). */
const POSITIONAL_COUNT = new Set([
  'HRANDFIELD',
  'SRANDMEMBER',
  'ZRANDMEMBER',
  'SPOP',
  'LPOP',
  'RPOP',
  'ZPOPMIN',
  'ZPOPMAX',
])

/** Commands with a `COUNT n` option, and where their options start. */
const COUNT_OPTION: Record<string, number> = {
  SCAN: 1,
  HSCAN: 2,
  SSCAN: 2,
  ZSCAN: 2,
  XRANGE: 3,
  XREVRANGE: 3,
  XAUTOCLAIM: 5,
  LPOS: 2,
  GEOSEARCH: 1,
  GEOSEARCHSTORE: 2,
  GEORADIUS: 5,
  GEORADIUSBYMEMBER: 4,
  GEORADIUS_RO: 5,
  GEORADIUSBYMEMBER_RO: 4,
}

/** Commands where `COUNT 0` means every element, not none. */
const ZERO_IS_ALL = new Set(['LPOS', 'XINFO'])

/** Every command this module looks at (any other has nothing to refuse: checked first). */
const CHECKED = new Set([
  ...POSITIONAL_COUNT,
  ...Object.keys(COUNT_OPTION),
  'XREAD',
  'XREADGROUP',
  'COPY',
  'WAIT',
  'XPENDING',
  'LMPOP',
  'XINFO',
])

const isInteger = (text: string | undefined): text is string =>
  text !== undefined && /^-?\d+$/.test(text)

/** Why an argument is refused, or null. */
export function argumentProblem(
  command: Command,
  limits: { maxWaitMs: number; maxCount: number },
): string | null {
  const { name, args } = command
  if (!CHECKED.has(name)) return null
  const shown = name.toLowerCase()
  const max = limits.maxCount
  const countRefusal = `ERR '${shown}' COUNT is limited to 1..${max} through the gateway (GATEWAY_MAX_COUNT)`
  const tooLarge = (text: string | undefined) => {
    if (!isInteger(text)) return false
    const n = Math.abs(Number(text))
    return n > max || (n === 0 && ZERO_IS_ALL.has(name))
  }
  const countFrom = (from: number) => {
    for (let i = from; i < args.length - 1; i++)
      if (args[i]!.toUpperCase() === 'COUNT' && tooLarge(args[i + 1])) return countRefusal
    return null
  }

  switch (name) {
    case 'XREAD':
    case 'XREADGROUP':
      return streamReadProblem(command, tooLarge, countRefusal)
    case 'COPY':
      // COPY ... DB n writes into another database than the one the gateway serves
      return args.slice(2).some((a) => a.toUpperCase() === 'DB')
        ? "ERR 'copy' with DB is not allowed through the gateway: it would write into another database"
        : null
    case 'WAIT': {
      const timeout = Number(args[1])
      if (!/^\d+$/.test(args[1] ?? '') || timeout < 1 || timeout > limits.maxWaitMs) {
        return `ERR 'wait' needs a timeout between 1 and ${limits.maxWaitMs} milliseconds through the gateway`
      }
      return null
    }
    case 'XPENDING': {
      // XPENDING key group [[IDLE ms] start end count [consumer]]
      const at = args[2]?.toUpperCase() === 'IDLE' ? 6 : 4
      return tooLarge(args[at]) ? countRefusal : null
    }
    case 'LMPOP': {
      // LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count]
      const keys = Number(args[0])
      return Number.isSafeInteger(keys) && keys > 0 ? countFrom(keys + 2) : null
    }
    case 'XINFO':
      // XINFO STREAM key FULL [COUNT n]: 0 is every entry and every pending one
      return args[0]?.toUpperCase() === 'STREAM' ? countFrom(2) : null
  }
  if (POSITIONAL_COUNT.has(name) && tooLarge(args[1])) {
    return `ERR '${shown}' count is limited to ${max} through the gateway (GATEWAY_MAX_COUNT)`
  }
  const from = COUNT_OPTION[name]
  return from === undefined ? null : countFrom(from)
}

/**
 * XREAD [COUNT n] [BLOCK ms] STREAMS ... and XREADGROUP GROUP g c [COUNT n] [BLOCK ms] [NOACK]
 * STREAMS ...: options as Redis parses them (up to STREAMS; GROUP takes two names), so a key or
 * group that happens to be called "block" is not mistaken for the option.
 */
function streamReadProblem(
  { name, args }: Command,
  tooLarge: (text: string | undefined) => boolean,
  countRefusal: string,
): string | null {
  for (let i = 0; i < args.length; i++) {
    const word = args[i]!.toUpperCase()
    if (word === 'STREAMS') break
    if (word === 'GROUP' && name === 'XREADGROUP') i += 2
    else if (word === 'BLOCK') {
      return `ERR '${name.toLowerCase()}' with BLOCK is not allowed through the gateway: it would block the shared connection`
    } else if (word === 'COUNT' && tooLarge(args[++i])) return countRefusal
  }
  return null
}
