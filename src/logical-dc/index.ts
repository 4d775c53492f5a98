/**
 * The logical datacenter: providers by name, pools, inventory, refresh, plan and
 * apply, state stores, and the seam to the scheduler.
 */
export * from './logical-datacenter.js';
export * from './spec.js';
export * from './spec-file.js';
export * from './plan.js';
export * from './plan-types.js';
export * from './plan-format.js';
export * from './refresh.js';
export * from './inventory.js';
export * from './events.js';
export * from './agents.js';
export { schedulerAgents, type SchedulerAgentsOptions } from './scheduler-agents.js';
export * from './ad-hoc-pool.js';
export * from './ad-hoc-machines.js';
export * from './burst/index.js';
export * from './simulate/index.js';
export { TAG_SPEC } from './apply.js';
export type { ExecuteOptions } from './apply.js';
export * from './state/state-store.js';
export { memoryStore } from './state/memory-store.js';
export { sqliteStore, type SqliteStoreOptions } from './state/sqlite-store.js';
export { MIGRATIONS, SCHEMA_VERSION, migrate, type Migration } from './state/migrations.js';
export { currentHolder, describeHolder, holderAlive } from './state/lock.js';
