/**
 * Builds providers for commands run without a spec file (`kumo sizes --provider sim`).
 * With a spec file, providers come from its `providers` section instead.
 */
import { ValidationError, type Provider } from '../core/index.js';
import { sim } from '../providers/sim/index.js';

type Factory = (name: string) => Promise<Provider>;

const FACTORIES: Record<string, Factory> = {
  sim: (name) => Promise.resolve(sim({ name })),
};

/** Registers a provider kind the CLI can build from its name alone. */
export function registerProviderKind(kind: string, factory: Factory): void {
  FACTORIES[kind] = factory;
}

export async function providerByKind(kind: string): Promise<Provider> {
  const factory = FACTORIES[kind];
  if (factory === undefined)
    throw new ValidationError(
      `unknown provider "${kind}"; known: ${Object.keys(FACTORIES).join(', ')} (or give -f kumo.yaml to use the providers it declares)`,
      {
        issues: [{ path: '--provider', message: 'unknown provider' }],
      },
    );
  return factory(kind);
}
