import { describe, expect, it } from 'vitest';
import { buildProviders } from '../../../src/spec-providers.js';
import { loadSpecFile } from '../../../src/logical-dc/index.js';
import type { GcpProvider } from '../../../src/providers/gcp/index.js';

describe('examples/gcp.yaml', () => {
  it('is a valid spec file whose gcp provider builds from its settings', async () => {
    const file = loadSpecFile('examples/gcp.yaml');
    const providers = await buildProviders(file);
    const cloud = providers['cloud'] as GcpProvider | undefined;
    expect(cloud?.kind).toBe('gcp');
    expect(cloud?.region).toBe('us-central1');
    // The configured project and zones are used as given, without asking Google.
    expect(await cloud?.project()).toBe('my-project-123456');
    expect(await cloud?.zones()).toEqual(['us-central1-a', 'us-central1-b', 'us-central1-c']);
    expect(Object.keys(file.spec.pools).sort()).toEqual(['batch', 'web']);
    expect(file.spec.pools['batch']?.machine.spot).toBe(true);
    expect(file.spec.networks['web-net']?.firewall).toHaveLength(2);
    await cloud?.close();
  });
});
