// A named import: bundlers keep only this field of package.json.
import { version } from '../src/../package.json'

/** The package version, shown by /healthz, /readyz and the dashboard. */
export const VERSION: string = version
