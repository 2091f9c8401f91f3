/**
 * Optional peer dependencies (ioredis, @hono/node-server) are loaded through {@link importPeer}:
 * an app that lacks one gets an error naming the package and the command that installs it,
 * instead of Node's ERR_MODULE_NOT_FOUND pointing into this package's files.
 */

/** An optional peer dependency that a feature needs is not installed. */
export class MissingPeerError extends Error {
  readonly code = 'ERR_MISSING_PEER'
  /** The npm package to install. */
  readonly packageName: string
  /** `neededBy`: what cannot run without it, as the subject of "need". */
  constructor(packageName: string, neededBy: string, options: { cause: unknown }) {
    super(
      `${neededBy} need the ${packageName} package, an optional peer dependency: ` +
        `npm install ${packageName}`,
      options,
    )
    this.name = 'MissingPeerError'
    this.packageName = packageName
  }
}

/** Whether `error` says that `packageName` itself (not one of its own imports) is missing. */
function isMissing(error: unknown, packageName: string): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown }
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes(`'${packageName}'`)
  )
}

/**
 * Runs `load` (a dynamic `import()` of `packageName`); a missing package rejects with a
 * {@link MissingPeerError} naming `neededBy`, any other failure as it is.
 */
export async function importPeer<T>(
  packageName: string,
  neededBy: string,
  load: () => Promise<T>,
): Promise<T> {
  try {
    return await load()
  } catch (error) {
    if (isMissing(error, packageName))
      throw new MissingPeerError(packageName, neededBy, { cause: error })
    throw error
  }
}
