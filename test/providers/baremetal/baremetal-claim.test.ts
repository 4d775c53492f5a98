import { describe, expect, it } from 'vitest';
import { isKumoError, MachineSpecSchema } from '../../../src/core/index.js';
import type { IronicNode } from '../../../src/clients/openstack/ironic-types.js';
import { chooseRequirement } from '../../../src/providers/baremetal/baremetal-claim.js';
import { toSizes } from '../../../src/providers/baremetal/baremetal-mapper.js';

const context = {
  provider: 'onprem',
  region: 'dc-1',
  zone: 'default',
  defaultResourceClass: 'baremetal',
};
let n = 0;
function node(
  rc: string,
  cpus: number,
  memory: number,
  extra: Partial<IronicNode> = {},
): IronicNode {
  n += 1;
  return {
    uuid: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    provision_state: 'available',
    power_state: 'power off',
    instance_uuid: null,
    maintenance: false,
    resource_class: rc,
    properties: { cpus, memory_mb: memory, local_gb: 100, cpu_arch: 'x86_64' },
    traits: [],
    ...extra,
  };
}
const nodes = [
  node('bm-small', 4, 8192),
  node('bm-large', 32, 131072, { traits: ['CUSTOM_NVME'] }),
  node('bm-large', 32, 131072),
];
const ctx = {
  nodes,
  sizes: toSizes(nodes, { ...context, requiredTraits: [] }),
  requiredTraits: [],
  defaultResourceClass: 'baremetal',
  provider: 'onprem',
};
const spec = (s: Record<string, unknown>) =>
  MachineSpecSchema.parse({ image: 'ubuntu-22.04', ...s });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('choosing nodes for a request', () => {
  it('picks the best-fitting class with enough free nodes', () => {
    expect(
      chooseRequirement(spec({ resources: { cpus: 2, memoryMiB: 2048 } }), 1, ctx).resourceClass,
    ).toBe('bm-small');
  });

  it('moves to the next class that fits when the best has too few free', () => {
    expect(
      chooseRequirement(spec({ resources: { cpus: 2, memoryMiB: 2048 } }), 2, ctx).resourceClass,
    ).toBe('bm-large');
  });

  it('takes traits from the size name and counts only nodes that have them', () => {
    const req = chooseRequirement(spec({ size: 'bm-large+CUSTOM_NVME' }), 1, ctx);
    expect(req).toMatchObject({
      resourceClass: 'bm-large',
      traits: ['CUSTOM_NVME'],
      size: 'bm-large+CUSTOM_NVME',
    });
    const err = thrown(() => chooseRequirement(spec({ size: 'bm-large+CUSTOM_NVME' }), 2, ctx));
    expect(isKumoError(err) && err.code).toBe('InsufficientCapacity');
    expect(String(err)).toMatch(
      /2 × bm-large\+CUSTOM_NVME asked, 1 free with those traits \(bm-large: 2 free, bm-small: 1 free\)/,
    );
  });

  it('refuses an unknown size, naming the classes there are', () => {
    const err = thrown(() => chooseRequirement(spec({ size: 'bm-huge' }), 1, ctx));
    expect(err).toMatchObject({ code: 'ValidationError', issues: [{ path: 'spec.size' }] });
    expect(String(err)).toMatch(/bm-large, bm-small/);
  });

  it('says why a class Ironic has is not a size: its nodes are out of service or lack required traits', () => {
    const withIdle = [
      ...nodes,
      node('bm-gpu', 64, 262144, { name: 'gpu-1', provision_state: 'manageable' }),
      node('bm-gpu', 64, 262144, { name: 'gpu-2', provision_state: 'enroll' }),
      node('bm-arm', 64, 262144, { name: 'arm-1' }),
    ];
    const inv = {
      ...ctx,
      nodes: withIdle,
      sizes: toSizes(withIdle, { ...context, requiredTraits: ['CUSTOM_RACK_A'] }),
      requiredTraits: ['CUSTOM_RACK_A'],
    };
    expect(thrown(() => chooseRequirement(spec({ size: 'bm-gpu' }), 1, inv))).toMatchObject({
      code: 'ValidationError',
      message:
        'size "bm-gpu" has no node in service (gpu-1 is manageable; gpu-2 is enroll); sizes (resource classes) in service are none',
      issues: [{ path: 'spec.size', message: 'no node of this resource class is in service' }],
    });
    expect(String(thrown(() => chooseRequirement(spec({ size: 'bm-arm' }), 1, inv)))).toContain(
      'arm-1 lacks the required traits',
    );
    expect(thrown(() => chooseRequirement(spec({ size: 'bm-none' }), 1, inv))).toMatchObject({
      message: 'unknown size "bm-none"; sizes (resource classes) in service are none',
    });
  });

  it('refuses a malformed trait in a size name', () => {
    expect(thrown(() => chooseRequirement(spec({ size: 'bm-large+gpu' }), 1, ctx))).toMatchObject({
      code: 'ValidationError',
    });
  });

  it('names the nearest sizes when nothing could ever fit', () => {
    const err = thrown(() =>
      chooseRequirement(spec({ resources: { cpus: 512, memoryMiB: 1024 } }), 1, ctx),
    );
    expect(err).toMatchObject({ code: 'ValidationError' });
    expect(String(err)).toMatch(/nearest: bm-large/);
  });

  it('reports what was free when sizes fit but too few nodes are free', () => {
    const err = thrown(() =>
      chooseRequirement(spec({ resources: { cpus: 16, memoryMiB: 2048 } }), 3, ctx),
    );
    expect(err).toMatchObject({
      code: 'InsufficientCapacity',
      details: { asked: 3, fitting: [{ name: 'bm-large', available: 2 }] },
    });
  });
});
