// The session hash encoding moved to ./redis/codec.ts; this re-export goes once every importer
// uses that module.
export * from './redis/codec.js'
export { FLASH_PREFIX, META_FIELDS } from './redis/layout.js'
