/** Burst policies: schema, controller, packing, candidates, events and the burst log. */
export * from './duration.js';
export * from './burst-schema.js';
export * from './burst-events.js';
export * from './burst-log.js';
export * from './burst-controller.js';
export * from './candidates.js';
export * from './current-fit.js';
export * from './packing.js';
export * from './fractional-bound.js';
