import { checkDataGrowth } from '../bytes.js'
import type { SessionPatch } from '../store/types.js'

/**
 * This request's field changes, as JSON text (null: deleted). One record for every path: the
 * reads that must see them, the store patch, a brand-new entry's fields and the size check.
 */
export class ChangeSet {
  readonly #changes = new Map<string, string | null>()

  get size(): number {
    return this.#changes.size
  }

  /** The pending text of `field`: a string, null when deleted, undefined when untouched. */
  get(field: string): string | null | undefined {
    return this.#changes.get(field)
  }

  has(field: string): boolean {
    return this.#changes.has(field)
  }

  record(field: string, text: string | null): void {
    this.#changes.set(field, text)
  }

  clear(): void {
    this.#changes.clear()
  }

  /** True when a field gets a value (not only deletions): worth a new entry of its own. */
  setsAny(): boolean {
    for (const text of this.#changes.values()) if (text !== null) return true
    return false
  }

  /** `fields` with the changes applied (a new record). */
  appliedTo(fields: Record<string, string> | undefined): Record<string, string> {
    const out: Record<string, string> = { ...fields }
    for (const [name, text] of this.#changes) {
      if (text === null) delete out[name]
      else out[name] = text
    }
    return out
  }

  /** The changes as a store patch (values not yet sealed). */
  patch(): Pick<SessionPatch, 'set' | 'del'> {
    const patch = { set: {} as Record<string, string>, del: [] as string[] }
    for (const [name, text] of this.#changes) {
      if (text === null) patch.del.push(name)
      else patch.set[name] = text
    }
    return patch
  }

  /**
   * Refuses (413) when the changes grow `fields` past `max` bytes, by the rule the stores apply
   * (a write that does not grow a session already over the limit goes through).
   */
  checkTotal(fields: Record<string, string>, max: number): void {
    checkDataGrowth(fields, this.appliedTo(fields), max)
  }
}
