import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { buildProviders, checkProviderSettings } from '../../src/spec-providers.js';
import { loadSpec } from '../../src/cli/spec-loader.js';
import { loadSpecFile } from '../../src/logical-dc/index.js';
import { caught } from '../support/caught.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

describe('provider settings checked with the spec file', () => {
  it("every shipped example's providers pass their kinds' settings", () => {
    const specs = readdirSync(EXAMPLES).filter(
      (f) => f.endsWith('.yaml') && /^providers:/m.test(readFileSync(join(EXAMPLES, f), 'utf8')),
    );
    expect(specs.length).toBeGreaterThanOrEqual(6);
    for (const f of specs) expect(() => loadSpec(join(EXAMPLES, f)), f).not.toThrow();
  });

  it('names an unknown kind and the kinds there are', () => {
    expect(checkProviderSettings('azure', {}, 'x')).toEqual([
      {
        path: 'kind',
        message: 'unknown provider kind "azure"; known: sim, aws, gcp, openstack, baremetal',
      },
    ]);
  });

  it('names each unknown setting at its key, and each refused value at its field', () => {
    expect(checkProviderSettings('sim', { sede: 1, seed: 'x' }, 'cloud')).toEqual([
      { path: 'seed', message: 'Invalid input: expected number, received string' },
      { path: 'sede', message: 'unknown setting "sede" for kind sim', atKey: true },
    ]);
  });

  it('needs no secret from the environment to check a file; building the provider does', async () => {
    vi.stubEnv('KUMO_TEST_BMC_PASSWORD', undefined);
    const spec = join(mkdtempSync(join(tmpdir(), 'kumo-spec-')), 'kumo.yaml');
    writeFileSync(
      spec,
      [
        'name: bm-secrets',
        'providers:',
        '  onprem: { kind: sim }',
        '  metal:',
        '    kind: baremetal',
        '    endpoint: http://127.0.0.1:6385',
        '    auth: { type: basic, username: ops, passwordEnv: KUMO_TEST_BMC_PASSWORD }',
        'pools: {}',
        '',
      ].join('\n'),
    );
    try {
      const file = loadSpec(spec);
      expect(await caught(buildProviders(file))).toMatchObject({
        code: 'ValidationError',
        issues: [
          {
            path: expect.stringMatching(/^providers\.metal/) as string,
            message: expect.stringContaining('KUMO_TEST_BMC_PASSWORD') as string,
          },
        ],
      });
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('checks settings in buildProviders too, for SDK callers that read the file with loadSpecFile', async () => {
    const spec = join(mkdtempSync(join(tmpdir(), 'kumo-spec-')), 'kumo.yaml');
    writeFileSync(spec, 'name: sdk\nproviders:\n  cloud: { kind: sim, sede: 1 }\npools: {}\n');
    expect(await caught(buildProviders(loadSpecFile(spec)))).toMatchObject({
      issues: [
        { path: 'providers.cloud.sede', message: 'unknown setting "sede" for kind sim', line: 3 },
      ],
    });
  });
});
