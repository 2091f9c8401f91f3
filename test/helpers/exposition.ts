import { expect } from 'vitest'

/** One parsed sample line of the text exposition format. */
export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

/**
 * A strict-enough parser of the Prometheus text format (0.0.4): every line is `# HELP name text`,
 * `# TYPE name type`, or `name{label="value",...} number`; each family has HELP and TYPE before
 * its samples; histograms have cumulative `_bucket` series ending in `le="+Inf"` equal to
 * `_count`, plus `_sum`. Throws naming the bad line.
 */
export function parseExposition(text: string): Map<string, Sample[]> {
  const families = new Map<string, { type?: string; help?: boolean; samples: Sample[] }>()
  const family = (name: string) => {
    let f = families.get(name)
    if (!f) families.set(name, (f = { samples: [] }))
    return f
  }
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
  const sampleLine = new RegExp(
    `^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? ([+-]?(?:[0-9.]+(?:e[+-]?[0-9]+)?|Inf|NaN))( -?[0-9]+)?$`,
    'i', // values are Go ParseFloat syntax: prom-client writes NaN as "Nan"
  )
  expect(text.endsWith('\n')).toBe(true)
  for (const line of text.split('\n')) {
    if (line === '') continue
    let m: RegExpMatchArray | null
    if ((m = line.match(new RegExp(`^# HELP (${NAME}) (.*)$`)))) {
      if (family(m[1]!).help) throw new Error(`second HELP: ${line}`)
      family(m[1]!).help = true
    } else if (
      (m = line.match(new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)))
    ) {
      const f = family(m[1]!)
      if (f.type || f.samples.length) throw new Error(`TYPE after samples or twice: ${line}`)
      f.type = m[2]!
    } else if (line.startsWith('#')) {
      throw new Error(`unknown comment line: ${line}`)
    } else if ((m = line.match(sampleLine))) {
      const labels: Record<string, string> = {}
      for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
        labels[l[1]!] = l[2]!
      const name = m[1]!
      const base = families.has(name) ? name : name.replace(/_(bucket|sum|count|total)$/, '')
      const f = families.get(base) ?? families.get(name)
      if (!f?.type || !f.help) throw new Error(`sample before its HELP/TYPE: ${line}`)
      f.samples.push({ name, labels, value: Number(m[3]) })
    } else {
      throw new Error(`not a valid exposition line: ${JSON.stringify(line)}`)
    }
  }
  const out = new Map<string, Sample[]>()
  for (const [name, f] of families) {
    if (!f.type || !f.help) throw new Error(`${name}: missing HELP or TYPE`)
    if (f.type === 'histogram') checkHistogram(name, f.samples)
    out.set(name, f.samples)
  }
  return out
}

function checkHistogram(name: string, samples: Sample[]): void {
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>()
  for (const s of samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(rest)
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (s.name === `${name}_bucket`) {
      expect(le, `${name}: bucket without le`).toBeDefined()
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value])
    } else if (s.name === `${name}_sum`) entry.sum = s.value
    else if (s.name === `${name}_count`) entry.count = s.value
    else throw new Error(`${name}: unexpected series ${s.name}`)
  }
  for (const [key, { buckets, sum, count }] of series) {
    expect(buckets.length, `${name}${key}: buckets`).toBeGreaterThan(1)
    expect(buckets.at(-1)![0], `${name}${key}: last bucket is +Inf`).toBe(Infinity)
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]![0]).toBeGreaterThan(buckets[i - 1]![0])
      expect(buckets[i]![1], `${name}${key}: cumulative`).toBeGreaterThanOrEqual(buckets[i - 1]![1])
    }
    expect(count, `${name}${key}: _count`).toBe(buckets.at(-1)![1])
    expect(sum, `${name}${key}: _sum`).toBeGreaterThanOrEqual(0)
  }
}

/** Sum of a family's samples whose labels include `match`. */
export function total(
  parsed: Map<string, Sample[]>,
  name: string,
  match: Record<string, string> = {},
) {
  return [...parsed.values()]
    .flat()
    .filter((s) => s.name === name)
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((a, s) => a + s.value, 0)
}
