import { ValidationError, type Provider } from '../core/index.js';
import { providerByKind } from './providers.js';
import { buildProviders } from '../spec-providers.js';
import { loadSpec } from './spec-loader.js';

/**
 * The provider a command means: with a spec file, the provider declared under that
 * name (`-f kumo.yaml --provider cloud`); without one, a provider kind (`--provider sim`).
 */
export async function resolveProvider(name: string, specFile?: string): Promise<Provider> {
  if (specFile === undefined) return providerByKind(name);
  const file = loadSpec(specFile);
  const decl = file.providers[name];
  if (decl === undefined)
    throw new ValidationError(
      `${specFile} declares no provider "${name}" (declared: ${Object.keys(file.providers).join(', ') || 'none'})`,
      {
        issues: [{ path: '--provider', message: 'not declared in the spec file' }],
      },
    );
  const providers = await buildProviders({ ...file, providers: { [name]: decl } });
  return providers[name]!;
}
