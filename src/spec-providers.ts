/**
 * A spec file's providers: the kinds it can declare (`providers.<name>.kind`), each
 * mapped to its factory and settings schema, and the building of them. Factories load
 * on demand, so a command pays only for the cloud SDKs it uses; adding a kind is one
 * line here. It sits above the layers (DESIGN.md) because it names every provider: the
 * CLI uses it, and SDK callers get it from the root.
 */
import { dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { isKumoError, ValidationError, type Issue, type Provider } from './core/index.js';
import { providerIssuesAt, type ProviderIssue, type SpecFile } from './logical-dc/index.js';
// The settings schemas are plain zod (no cloud SDK), so every command can check a spec
// file's providers without loading their SDKs.
import { AwsOptionsSchema } from './providers/aws/aws-config.js';
import { BaremetalOptionsSchema } from './providers/baremetal/baremetal-config.js';
import { GcpOptionsSchema } from './providers/gcp/gcp-config.js';
import { OpenStackOptionsSchema } from './providers/openstack/openstack-config.js';
import { SimOptionsSchema } from './providers/sim/sim-config.js';

export interface ProviderKind {
  /** Builds the provider from its settings (the factory validates them with zod). */
  readonly load: () => Promise<(settings: Record<string, unknown>) => Provider>;
  /** The settings the factory accepts (`name` included), to check a spec file early. */
  readonly settings: z.ZodType;
  /** Settings that are file paths, resolved relative to the spec file. */
  readonly pathSettings: readonly string[];
}

type Factory = (settings: Record<string, unknown>) => Provider;

function kind(
  load: () => Promise<Factory>,
  settings: z.ZodType,
  pathSettings: readonly string[] = [],
): ProviderKind {
  return { load, settings, pathSettings };
}

// NOTE: each factory parses its own options with zod, so the casts below only hand the
// unvalidated settings to the function that validates them.
export const PROVIDER_KINDS: Readonly<Record<string, ProviderKind>> = {
  sim: kind(async () => (await import('./providers/sim/index.js')).sim, SimOptionsSchema, [
    'statePath',
  ]),
  aws: kind(async () => {
    const { aws } = await import('./providers/aws/index.js');
    return (s) => aws(s as Parameters<typeof aws>[0]);
  }, AwsOptionsSchema),
  gcp: kind(
    async () => {
      const { gcp } = await import('./providers/gcp/index.js');
      return (s) => gcp(s as Parameters<typeof gcp>[0]);
    },
    GcpOptionsSchema,
    ['keyFilename'],
  ),
  openstack: kind(
    async () => (await import('./providers/openstack/index.js')).openstack,
    OpenStackOptionsSchema,
    ['cloudsFile'],
  ),
  baremetal: kind(
    async () => (await import('./providers/baremetal/index.js')).baremetal,
    // Before the transform that reads `passwordEnv` secrets: checking a file must not
    // need the environment a build of the provider needs.
    BaremetalOptionsSchema.in,
  ),
};

/**
 * A provider's settings against its kind's schema, as the spec file's `checkProvider`:
 * an unknown kind, unknown settings (at their key) and refused values.
 *
 * @example
 * ```ts
 * const file = loadSpecFile('kumo.yaml', { checkProvider: checkProviderSettings });
 * ```
 */
export function checkProviderSettings(
  kindName: string,
  settings: Readonly<Record<string, unknown>>,
  name: string,
): ProviderIssue[] {
  const k = PROVIDER_KINDS[kindName];
  if (k === undefined)
    return [
      {
        path: 'kind',
        message: `unknown provider kind "${kindName}"; known: ${Object.keys(PROVIDER_KINDS).join(', ')}`,
      },
    ];
  const result = k.settings.safeParse({ ...settings, name });
  if (result.success) return [];
  return result.error.issues.flatMap((issue): ProviderIssue[] => {
    const at = issue.path.map(String).join('.');
    if (issue.code === 'unrecognized_keys')
      return issue.keys.map((key) => ({
        path: at === '' ? key : `${at}.${key}`,
        message: `unknown setting "${key}" for kind ${kindName}`,
        atKey: true,
      }));
    return [{ path: at === '' ? '(root)' : at, message: issue.message }];
  });
}

/**
 * Builds every provider the file declares, as every `kumo` command does (a sim keeps
 * its cloud in `sim-<name>.json` beside the state database, so separate processes see
 * the same machines); a provider's own validation errors are placed at their line in
 * the file, all of them listed at once.
 *
 * @example
 * ```ts
 * const file = loadSpecFile('examples/burst.yaml');
 * const dc = new LogicalDatacenter({
 *   name: file.name,
 *   store: sqliteStore(file.statePath),
 *   providers: await buildProviders(file),
 * });
 * ```
 */
export async function buildProviders(file: SpecFile): Promise<Record<string, Provider>> {
  // Settings first, all providers at once (as `loadSpec` does for the CLI), so SDK
  // callers that read the file with plain `loadSpecFile` get the same problems.
  const issues: Issue[] = Object.entries(file.providers).flatMap(([name, decl]) =>
    providerIssuesAt(name, checkProviderSettings(decl.kind, decl.settings, name), file),
  );
  if (issues.length > 0) throw file.error(issues);
  const providers: Record<string, Provider> = {};
  const stateDir = dirname(file.statePath);
  for (const [name, decl] of Object.entries(file.providers)) {
    const kind = PROVIDER_KINDS[decl.kind]!;
    const settings: Record<string, unknown> = { ...decl.settings, name };
    for (const key of kind.pathSettings)
      if (typeof settings[key] === 'string')
        settings[key] = resolve(dirname(file.path), settings[key]);
    // The sim keeps its cloud beside the state, so separate commands see the same machines.
    if (decl.kind === 'sim' && settings['statePath'] === undefined)
      settings['statePath'] = join(stateDir, `sim-${name}.json`);
    try {
      const factory = await kind.load();
      providers[name] = factory(settings);
    } catch (err) {
      // What only a build can find (an unset passwordEnv, a cloud missing from
      // clouds.yaml) is placed in the file like the rest.
      if (!isKumoError(err) || !(err instanceof ValidationError)) throw err;
      const own = err.issues.length > 0 ? err.issues : [{ path: '(root)', message: err.message }];
      issues.push(...providerIssuesAt(name, own, file));
    }
  }
  if (issues.length > 0) throw file.error(issues);
  return providers;
}
