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

// NOTE: each factory parses its own options with zod, so the casts below only hand
// the unvalidated settings to the function that validates them.
export const PROVIDER_KINDS: Readonly<Record<string, ProviderKind>> = {
  sim: {
    load: async () => {
      const { sim } = await import('../providers/sim/index.js');
      return (s) => sim(s);
    },
    pathSettings: ['statePath'],
  },
  gcp: {
    load: async () => {
      const { gcp } = await import('../providers/gcp/index.js');
      return (s) => gcp(s as Parameters<typeof gcp>[0]);
    },
    pathSettings: ['keyFilename'],
  },
  openstack: {
    load: async () => {
      const { openstack } = await import('../providers/openstack/index.js');
      return (s) => openstack(s);
    },
    pathSettings: ['cloudsFile'],
  },
};
