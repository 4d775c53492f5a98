/**
 * Provider kinds a spec file can declare (`providers.<name>.kind`), each mapped to its
 * factory. Loaded on demand, so a command pays only for the cloud SDKs it uses.
 * Adding a kind is one line here.
 */
import type { Provider } from '../core/index.js';

export interface ProviderKind {
  /** Builds the provider from its settings (the factory validates them with zod). */
  readonly load: () => Promise<(settings: Record<string, unknown>) => Provider>;
  /** Settings that are file paths, resolved relative to the spec file. */
  readonly pathSettings: readonly string[];
}

type Factory = (settings: Record<string, unknown>) => Provider;

function kind(load: () => Promise<Factory>, pathSettings: readonly string[] = []): ProviderKind {
  return { load, pathSettings };
}

// NOTE: each factory parses its own options with zod, so the casts below only hand the
// unvalidated settings to the function that validates them.
export const PROVIDER_KINDS: Readonly<Record<string, ProviderKind>> = {
  sim: kind(async () => (await import('../providers/sim/index.js')).sim, ['statePath']),
  aws: kind(async () => {
    const { aws } = await import('../providers/aws/index.js');
    return (s) => aws(s as Parameters<typeof aws>[0]);
  }),
  gcp: kind(async () => {
    const { gcp } = await import('../providers/gcp/index.js');
    return (s) => gcp(s as Parameters<typeof gcp>[0]);
  }, ['keyFilename']),
  openstack: kind(
    async () => (await import('../providers/openstack/index.js')).openstack,
    ['cloudsFile'],
  ),
  baremetal: kind(async () => (await import('../providers/baremetal/index.js')).baremetal),
};
