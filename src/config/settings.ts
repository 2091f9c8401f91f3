/**
 * Settings as the user typed them, from the environment or from command-line flags. Each one
 * carries the name it came from (`GATEWAY_PORT`, `--port`), so an error names what the user
 * typed; the parsers below never echo a value that may hold a secret.
 */

/** One setting: its text and the variable or flag it came from. */
export interface Setting {
  value: string
  name: string
}

/** Setting key -> the setting, for the keys that were given. */
export type Settings<K extends string> = Partial<Record<K, Setting>>

/**
 * Picks the given settings out of `source` (an environment, or parsed flags) by name. Empty
 * values count as unset; values are trimmed except those listed in `untrimmed` (a password
 * may legitimately have edge spaces).
 */
export function pickSettings<K extends string>(
  source: Readonly<Record<string, string | undefined>>,
  names: Readonly<Record<K, string>>,
  untrimmed: readonly K[] = [],
): Settings<K> {
  const out: Settings<K> = {}
  for (const [key, name] of Object.entries(names) as [K, string][]) {
    const raw = source[name]
    const value = untrimmed.includes(key) ? raw : raw?.trim()
    if (value) out[key] = { value, name }
  }
  return out
}

/** A whole number in `[min, max]`; `fallback` when unset. */
export function integerSetting(
  setting: Setting | undefined,
  fallback: number,
  { min = 1, max = Number.MAX_SAFE_INTEGER }: { min?: number; max?: number } = {},
): number {
  if (!setting) return fallback
  const value = Number(setting.value)
  if (/^\d+$/.test(setting.value) && value >= min && value <= max) return value
  const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `between ${min} and ${max}`
  throw new Error(`${setting.name} must be an integer ${range}, got "${setting.value}"`)
}

/** `1`/`true`/`yes` or `0`/`false`/`no`; `fallback` when unset. */
export function flagSetting(setting: Setting | undefined, fallback = false): boolean {
  if (!setting) return fallback
  const v = setting.value.toLowerCase()
  if (v === '1' || v === 'true' || v === 'yes') return true
  if (v === '0' || v === 'false' || v === 'no') return false
  throw new Error(`${setting.name} must be 1 or 0, got "${setting.value}"`)
}

/** A comma-separated list, items trimmed, empty items dropped. */
export function listSetting(setting: Setting | undefined): string[] {
  return (setting?.value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/** One of `choices`; `fallback` when unset. */
export function choiceSetting<T extends string>(
  setting: Setting | undefined,
  choices: readonly T[],
  fallback: T,
): T {
  if (!setting) return fallback
  if (!(choices as readonly string[]).includes(setting.value))
    throw new Error(
      `${setting.name} must be ${choices.map((c) => `"${c}"`).join(' or ')}, got "${setting.value}"`,
    )
  return setting.value as T
}

/** Parses `host:port,host:port` (IPv6 as `[addr]:port`). */
export function addressListSetting(setting: Setting): { host: string; port: number }[] {
  const items = listSetting(setting)
  if (items.length === 0) throw new Error(`${setting.name} must list at least one host:port`)
  return items.map((item) => {
    const match = /^(?:\[([^\]]+)\]|([^:\s]+)):(\d{1,5})$/.exec(item)
    const port = match ? Number(match[3]) : NaN
    if (!match || port < 1 || port > 65535) {
      throw new Error(`${setting.name} must be a comma-separated list of host:port, got "${item}"`)
    }
    return { host: (match[1] ?? match[2])!, port }
  })
}
