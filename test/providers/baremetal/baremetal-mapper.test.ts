import { describe, expect, it } from 'vitest';
import type { IronicNode } from '../../../src/clients/openstack/ironic-types.js';
import {
  machineState,
  nodeResources,
  parseSizeName,
  toMachine,
  toSizes,
} from '../../../src/providers/baremetal/baremetal-mapper.js';
import { fixture } from './helpers.js';

const context = {
  provider: 'onprem',
  region: 'dc-1',
  zone: 'rack-a',
  defaultResourceClass: 'baremetal',
};
const deployed = (fixture('nodes-list-deployed-by-kumo') as { nodes: IronicNode[] }).nodes[0]!;
const instance = deployed.instance_uuid!;

function node(overrides: Partial<IronicNode>): IronicNode {
  return {
    uuid: `n-${Math.random().toString(16).slice(2, 10)}`,
    provision_state: 'available',
    power_state: 'power off',
    maintenance: false,
    instance_uuid: null,
    resource_class: 'bm-small',
    properties: { cpus: 4, memory_mb: 8192, local_gb: 80, cpu_arch: 'x86_64' },
    traits: [],
    ...overrides,
  };
}

describe('bare-metal machines from nodes', () => {
  it('reads a node kumo deployed as its machine: id, labels, size, image, address', () => {
    const m = toMachine(deployed, context)!;
    expect(m).toMatchObject({
      id: 'web-a3fbe4f6-0',
      providerId: instance,
      provider: 'onprem',
      region: 'dc-1',
      zone: 'rack-a',
      size: 'bm-small',
      image: 'ubuntu-22.04',
      state: 'running',
      spot: false,
      addresses: [{ type: 'private', address: '10.0.1.15' }],
      resources: { cpus: 4, memoryMiB: 8192, gpus: 0, diskGiB: 80 },
    });
    expect(m.labels).toEqual({
      team: 'Data Eng',
      'kumo-dc': 'hybrid-1',
      'kumo-pool': 'web',
      'kumo-key': 'fixture-web-1',
      'kumo-id': 'web-a3fbe4f6-0',
    });
  });

  const states: [Partial<IronicNode>, string][] = [
    [{ provision_state: 'available' }, 'pending'],
    [{ provision_state: 'deploying' }, 'pending'],
    [{ provision_state: 'wait call-back' }, 'pending'],
    [{ provision_state: 'active', power_state: 'power on' }, 'running'],
    [{ provision_state: 'active', power_state: 'power off' }, 'stopped'],
    [
      { provision_state: 'active', power_state: 'power on', target_power_state: 'power off' },
      'stopping',
    ],
    [
      { provision_state: 'active', power_state: 'power off', target_power_state: 'power on' },
      'pending',
    ],
    [{ provision_state: 'deploy failed' }, 'error'],
    [{ provision_state: 'error' }, 'error'],
    [{ provision_state: 'deleting' }, 'terminated'],
    [{ provision_state: 'cleaning' }, 'terminated'],
  ];
  for (const [fields, state] of states)
    it(`maps ${fields.provision_state}${fields.power_state ? ` / ${fields.power_state}` : ''}${fields.target_power_state ? ` → ${fields.target_power_state}` : ''} to ${state}`, () => {
      expect(machineState(node({ ...fields, instance_uuid: 'i-1' }), 'i-1')).toBe(state);
    });

  it('calls a machine terminated once its node no longer carries its instance, whatever the node does now', () => {
    const reused = { ...deployed, instance_uuid: '11111111-2222-4333-8444-555555555555' };
    expect(toMachine(reused, context, instance)!.state).toBe('terminated');
    expect(
      toMachine({ ...deployed, instance_uuid: null, provision_state: 'available' }, context)!.state,
    ).toBe('terminated');
  });

  it('gives a failed deploy’s last_error as the machine’s error', () => {
    const failed = {
      ...deployed,
      provision_state: 'deploy failed',
      last_error: 'Timeout reached while waiting for callback',
    };
    expect(toMachine(failed, context)).toMatchObject({
      state: 'error',
      error: 'Timeout reached while waiting for callback',
    });
  });

  it('reads string properties as numbers and counts GPUs the operator recorded', () => {
    expect(
      nodeResources(
        node({ properties: { cpus: '8', memory_mb: '16384', local_gb: '100', gpus: 2 } }),
      ),
    ).toEqual({
      cpus: 8,
      memoryMiB: 16384,
      gpus: 2,
      diskGiB: 100,
    });
  });
});

describe('bare-metal sizes from nodes', () => {
  const nodes = [
    node({ resource_class: 'bm-small' }),
    node({
      resource_class: 'bm-small',
      properties: { cpus: 8, memory_mb: 16384, local_gb: 80, cpu_arch: 'x86_64' },
    }),
    node({ resource_class: 'bm-small', power_state: null }),
    node({ resource_class: 'bm-small', maintenance: true }),
    node({
      resource_class: 'bm-small',
      provision_state: 'active',
      instance_uuid: 'i-1',
      traits: ['CUSTOM_NVME'],
    }),
    node({
      resource_class: 'bm-arm',
      properties: { cpus: 64, memory_mb: 131072, local_gb: 480, cpu_arch: 'aarch64' },
    }),
    node({ resource_class: 'bm-new', provision_state: 'manageable' }),
    node({ resource_class: null }),
  ];
  const sizes = toSizes(nodes, { ...context, requiredTraits: [] });

  it('makes one size per resource class in service, nodes without one under the default class', () => {
    expect(sizes.map((s) => s.name)).toEqual(['baremetal', 'bm-arm', 'bm-small']);
  });

  it('gives a size what every node of its class has at least', () => {
    expect(sizes.find((s) => s.name === 'bm-small')!.resources).toEqual({
      cpus: 4,
      memoryMiB: 8192,
      gpus: 0,
      diskGiB: 80,
    });
  });

  it('counts as available only free nodes with a power state and out of maintenance', () => {
    expect(sizes.find((s) => s.name === 'bm-small')).toMatchObject({
      available: 2,
      extra: { nodes: 5, traits: ['CUSTOM_NVME'] },
    });
  });

  it('takes the architecture from cpu_arch', () => {
    expect(sizes.find((s) => s.name === 'bm-arm')!.arch).toBe('arm64');
  });

  it('leaves out nodes without the provider’s required traits', () => {
    expect(
      toSizes(nodes, { ...context, requiredTraits: ['CUSTOM_NVME'] }).map((s) => [
        s.name,
        s.available,
      ]),
    ).toEqual([['bm-small', 0]]);
  });

  it('reads traits after the resource class in a size name', () => {
    expect(parseSizeName('bm-gpu+CUSTOM_A100+CUSTOM_NVME')).toEqual({
      resourceClass: 'bm-gpu',
      traits: ['CUSTOM_A100', 'CUSTOM_NVME'],
    });
    expect(parseSizeName('bm-small')).toEqual({ resourceClass: 'bm-small', traits: [] });
  });
});
