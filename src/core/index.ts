/**
 * kumo's core: the neutral model, the provider contract and the helpers every layer
 * shares. Imports nothing else from `src`.
 */
export * from './errors.js';
export * from './validate.js';
export * from './clock.js';
export * from './random.js';
export * from './retry.js';
export * from './rate-limit.js';
export * from './wait.js';
export * from './batch-poller.js';
export * from './tags.js';
export * from './images.js';
export * from './size-select.js';
export * from './provider.js';
export * from './resilience.js';
export * from './cached.js';
export * from './model/labels.js';
export * from './model/resources.js';
export * from './model/size.js';
export * from './model/image.js';
export * from './model/network.js';
export * from './model/machine.js';
