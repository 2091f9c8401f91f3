// The key layout moved to ./redis/layout.ts (one module owns it); this re-export goes once every
// importer uses that module.
export * from './redis/layout.js'
