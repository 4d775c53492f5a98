/**
 * Provider kinds a spec file can declare (`providers.<name>.kind`), each mapped to its
 * factory. Loaded on demand, so a command pays only for the cloud SDKs it uses.
 * Adding a kind is one line here.
 */
import type { z } from 'zod';
import type { Provider } from '../core/index.js';
import type { ProviderIssue } from '../logical-dc/index.js';
// The settings schemas are plain zod (no cloud SDK), so every command can check a spec
// file's providers without loading their SDKs.
import { AwsOptionsSchema } from '../providers/aws/aws-config.js';
import { BaremetalOptionsSchema } from '../providers/baremetal/baremetal-config.js';
import { GcpOptionsSchema } from '../providers/gcp/gcp-config.js';
import { OpenStackOptionsSchema } from '../providers/openstack/openstack-config.js';
import { SimOptionsSchema } from '../providers/sim/sim-config.js';

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
  sim: kind(async () => (await import('../providers/sim/index.js')).sim, SimOptionsSchema, [
    'statePath',
  ]),
  aws: kind(async () => {
    const { aws } = await import('../providers/aws/index.js');
    return (s) => aws(s as Parameters<typeof aws>[0]);
  }, AwsOptionsSchema),
  gcp: kind(
    async () => {
      const { gcp } = await import('../providers/gcp/index.js');
      return (s) => gcp(s as Parameters<typeof gcp>[0]);
    },
    GcpOptionsSchema,
    ['keyFilename'],
  ),
  openstack: kind(
    async () => (await import('../providers/openstack/index.js')).openstack,
    OpenStackOptionsSchema,
    ['cloudsFile'],
  ),
  baremetal: kind(
    async () => (await import('../providers/baremetal/index.js')).baremetal,
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
