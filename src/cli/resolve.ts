import type { Provider } from '../core/index.js';
import { providerByKind } from './providers.js';

/**
 * The provider a command means: by kind without a spec file. (The logical-datacenter
 * spec file adds providers by name when it lands.)
 */
export async function resolveProvider(name: string, _specFile?: string): Promise<Provider> {
  return providerByKind(name);
}
