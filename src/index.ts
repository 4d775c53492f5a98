/**
 * kumo: many clouds, one logical datacenter.
 *
 * Everything a user imports comes from here; each provider also has its own subpath
 * (`kumo/sim`, `kumo/aws`, `kumo/gcp`, `kumo/openstack`, `kumo/baremetal`).
 */
export * from './core/index.js';
export * from './logical-dc/index.js';
export * from './scheduler/index.js';
export * from './gateway/index.js';
// The providers a spec file declares, built as the CLI builds them (sim clouds keep
// their state beside the spec's), so SDK code and `kumo` commands see the same clouds.
export { buildProviders, checkProviderSettings } from './spec-providers.js';
