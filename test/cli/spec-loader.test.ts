import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProviderSettings } from '../../src/cli/provider-kinds.js';
import { loadSpec } from '../../src/cli/spec-loader.js';

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
});
