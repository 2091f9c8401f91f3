/**
 * The one deadline helper of the package: every bounded wait (store calls, gateway commands,
 * probes, shutdowns) goes through it. One promise and one timer per call; the timer never keeps
 * a Node process alive.
 */

/**
 * Settles like `work`, or rejects with `onTimeout()` once `ms` have passed. The work is not
 * cancelled (a command already sent may still run). A rejection of `work` is passed through
 * `mapError` when given.
 */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => unknown,
  mapError?: (err: unknown) => unknown,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    unref(timer)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (err: unknown) => {
        clearTimeout(timer)
        reject(mapError ? mapError(err) : err)
      },
    )
  })
}

/** Waits for `work` at most `ms`: its value, or `fallback` after the deadline or a failure. */
export function settleWithin<T, F>(work: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  return withTimeout<T | F>(work, ms, () => fallback).catch(() => fallback)
}

/** Lets Node exit while the timer runs (other runtimes have no such notion). */
function unref(timer: unknown): void {
  ;(timer as { unref?: () => void }).unref?.()
}
