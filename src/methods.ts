/**
 * Authentication methods (`amr` values) that count as another one: a backup code is a one-time
 * password, so it meets a requirement for `otp` (as `requireFreshAuth({ methods: ['otp'] })`
 * asks). Asking for `backup` itself still needs a backup code.
 */
const COUNTS_AS: Readonly<Record<string, readonly string[]>> = { otp: ['backup'] }

/** Whether the methods used (`amr`) meet a requirement for `method`, directly or by its class. */
export function meetsMethod(amr: readonly string[], method: string): boolean {
  return amr.includes(method) || (COUNTS_AS[method] ?? []).some((m) => amr.includes(m))
}
