import { describe, expect, it } from 'vitest';
import {
  MachineSpecSchema,
  ProviderError,
  ValidationError,
  type MachineSpecInput,
  type Provider,
} from '../../src/core/index.js';
import type { PlanStep } from '../../src/logical-dc/index.js';
import { machineProblems } from '../../src/cli/plan-check.js';
import { sim } from '../../src/providers/sim/index.js';

function create(pool: string, machine: MachineSpecInput): PlanStep {
  return {
    kind: 'create',
    pool,
    provider: 'cloud',
    count: 1,
    specHash: 'h',
    spec: MachineSpecSchema.parse(machine),
  };
}

/** A sim cloud whose sizes are all Arm, recording the architecture images are asked for. */
function armCloud(): { provider: Provider; asked: (string | undefined)[] } {
  const base = sim({ name: 'cloud' });
  const asked: (string | undefined)[] = [];
  const provider: Provider = {
    kind: base.kind,
    name: base.name,
    region: base.region,
    capabilities: base.capabilities,
    listSizes: (q) => base.listSizes(q),
    chooseSize: async (c, o) => ({ ...(await base.chooseSize(c, o)), arch: 'arm64' }),
    resolveImage: (image, o) => {
      asked.push(o?.arch);
      return base.resolveImage(image, o);
    },
    ensureNetwork: (s, o) => base.ensureNetwork(s, o),
    deleteNetwork: (n, o) => base.deleteNetwork(n, o),
    createMachines: (r, o) => base.createMachines(r, o),
    listMachines: (f, o) => base.listMachines(f, o),
    getMachine: (id, o) => base.getMachine(id, o),
    deleteMachines: (ids, o) => base.deleteMachines(ids, o),
    startMachine: (id, o) => base.startMachine(id, o),
    stopMachine: (id, o) => base.stopMachine(id, o),
  };
  return { provider, asked };
}

describe('plan checks', () => {
  it('names the size field of a pool whose size the provider does not offer', async () => {
    const issues = await machineProblems(
      { steps: [create('web', { size: 'std-99x1', image: 'ubuntu-22.04' })] },
      new Map([['cloud', sim({ name: 'cloud' })]]),
    );
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('pools.web.machine.size');
    expect(issues[0]!.message).toMatch(/unknown size "std-99x1"/);
  });

  it('names the resources of a pool no size can hold', async () => {
    const issues = await machineProblems(
      {
        steps: [
          create('big', { resources: { cpus: 4096, memoryMiB: 1024 }, image: 'ubuntu-22.04' }),
        ],
      },
      new Map([['cloud', sim({ name: 'cloud' })]]),
    );
    expect(issues.map((i) => i.path)).toEqual(['pools.big.machine.resources']);
  });

  it('resolves the image for the architecture of the size the machine would get', async () => {
    const { provider, asked } = armCloud();
    await machineProblems(
      {
        steps: [create('web', { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' })],
      },
      new Map([['cloud', provider]]),
    );
    expect(asked).toEqual(['arm64']);
  });

  it('reports a bad size and a bad image of one pool together', async () => {
    const issues = await machineProblems(
      { steps: [create('web', { size: 'std-99x1', image: 'ubuntu-99.04' })] },
      new Map([['cloud', sim({ name: 'cloud' })]]),
    );
    expect(issues.map((i) => i.path)).toEqual([
      'pools.web.machine.size',
      'pools.web.machine.image',
    ]);
  });

  it('sizes for the image’s architecture where the image decides it (bare metal)', async () => {
    const { provider } = armCloud();
    const x86Only: Provider = {
      ...provider,
      // Sizes of x86 only; the image is an Arm one whatever is asked (as Ironic's are).
      chooseSize: async (c, o) => {
        if (c.arch === 'arm64')
          throw new ValidationError('no arm64 size fits', {
            issues: [{ path: 'resources', message: 'no size fits' }],
          });
        return { ...(await provider.chooseSize(c, o)), arch: 'x86_64' };
      },
      resolveImage: async (image, o) => ({
        ...(await provider.resolveImage(image, o)),
        arch: 'arm64',
      }),
    };
    const issues = await machineProblems(
      {
        steps: [create('web', { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' })],
      },
      new Map([['cloud', x86Only]]),
    );
    expect(issues).toEqual([
      { path: 'pools.web.machine.resources', message: 'no arm64 size fits' },
    ]);
  });

  it('passes through an error that is not the spec’s, such as an outage', async () => {
    const { provider } = armCloud();
    const down: Provider = {
      ...provider,
      chooseSize: () => Promise.reject(new ProviderError('compute API is down')),
    };
    await expect(
      machineProblems(
        { steps: [create('web', { size: 'std-2x8', image: 'ubuntu-22.04' })] },
        new Map([['cloud', down]]),
      ),
    ).rejects.toThrow('compute API is down');
  });
});
