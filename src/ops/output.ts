/** A runtime failure: exit code 1, message on stderr, no stack trace. */
export class CliError extends Error {
  readonly exitCode: number = 1
}

/** Bad arguments: exit code 2. */
export class UsageError extends CliError {
  override readonly exitCode = 2
}

/** Progress lines on stderr, only when stderr is a terminal (scripts get clean output). */
export function progress(): { update(text: string): void; done(): void } {
  const tty = process.stderr.isTTY === true
  let last = 0
  return {
    update(text) {
      if (!tty || Date.now() - last < 200) return
      last = Date.now()
      process.stderr.write(`\r${text}\u001b[K`)
    },
    done() {
      if (tty) process.stderr.write('\r\u001b[K')
    },
  }
}

/** Bold text on a terminal without NO_COLOR; plain otherwise. */
export function bold(text: string): string {
  return process.stdout.isTTY && !process.env.NO_COLOR ? `\u001b[1m${text}\u001b[22m` : text
}

/** A plain text table: one header row, columns padded. */
export function table(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))]
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)))
  return cells
    .map((r, n) => {
      const line = r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()
      return n === 0 ? bold(line) : line
    })
    .join('\n')
}

/** An ISO time for epoch milliseconds, or '-'. */
export function when(ms: number | undefined): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().replace('.000Z', 'Z')
}
