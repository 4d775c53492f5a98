import { describe, expect, it } from 'vitest';
import { buildProviders } from '../../../src/spec-providers.js';
import { loadSpecFile } from '../../../src/logical-dc/index.js';

describe('examples/aws.yaml', () => {
  it('is a valid spec file whose aws provider builds from its settings', async () => {
    const file = loadSpecFile('examples/aws.yaml');
    const providers = await buildProviders(file);
    const cloud = providers['cloud'];
    expect(cloud?.kind).toBe('aws');
    expect(cloud?.region).toBe('us-east-1');
    expect(Object.keys(file.spec.pools).sort()).toEqual(['batch', 'web']);
    expect(file.spec.networks['web-net']?.subnets).toHaveLength(2);
  });
});
