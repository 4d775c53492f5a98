import { describe, expect, it } from 'vitest';
import { flavorGpus, serverState, SERVER_STATES } from '../../../src/providers/openstack/index.js';
import {
  flavorToSize,
  fromNovaMetadata,
  toNovaMetadata,
} from '../../../src/providers/openstack/openstack-mapper.js';
import { fixture } from './helpers.js';

describe('openstack mapping', () => {
  it.each([
    ['BUILD', null, 'pending'],
    ['ACTIVE', null, 'running'],
    ['ACTIVE', 'powering-off', 'stopping'],
    ['SHUTOFF', null, 'stopped'],
    ['SHUTOFF', 'powering-on', 'pending'],
    ['ERROR', null, 'error'],
    ['DELETED', null, 'terminated'],
    ['SOFT_DELETED', null, 'terminated'],
    ['ACTIVE', 'deleting', 'terminated'],
    ['SOMETHING_NEW', null, 'pending'],
  ] as const)('maps status %s with task %s to %s', (status, task, state) => {
    expect(serverState({ status, 'OS-EXT-STS:task_state': task })).toBe(state);
  });

  it('maps every status the issue names', () => {
    expect(SERVER_STATES).toMatchObject({
      BUILD: 'pending',
      ACTIVE: 'running',
      SHUTOFF: 'stopped',
      ERROR: 'error',
      DELETED: 'terminated',
      SOFT_DELETED: 'terminated',
    });
  });

  it('counts GPUs from resources:VGPU, custom GPU resources and GPU PCI aliases', () => {
    expect(flavorGpus({ 'resources:VGPU': '1' })).toBe(1);
    expect(
      flavorGpus({ 'resources:CUSTOM_NVIDIA_A100': '0', 'resources1:CUSTOM_GPU_A100': '2' }),
    ).toBe(2);
    expect(flavorGpus({ 'pci_passthrough:alias': 'a100:2,nic-sriov:1' })).toBe(2);
    expect(flavorGpus({ 'hw:cpu_policy': 'dedicated' })).toBe(0);
  });

  it('turns the lab flavors into sizes in kumo units', () => {
    const flavors = (
      fixture('nova-flavors-detail') as { flavors: Parameters<typeof flavorToSize>[0][] }
    ).flavors;
    const sizes = flavors.map((f) => flavorToSize(f, 'lab'));
    expect(sizes.find((s) => s.name === 'kumo.medium')?.resources).toEqual({
      cpus: 2,
      memoryMiB: 4096,
      gpus: 0,
      diskGiB: 20,
    });
    expect(sizes.find((s) => s.name === 'kumo.gpu')?.resources.gpus).toBe(1);
    expect(sizes.find((s) => s.name === 'kumo.small')?.extra.flavorId).toBe('kumo.small');
  });
});

describe('labels as Nova metadata', () => {
  it('carries "/" in label keys as ":" (Nova refuses "/") and restores it', () => {
    const labels = { 'app.example.com/name': 'Web_API', team: 'Data Eng', empty: '' };
    const metadata = toNovaMetadata(labels);
    expect(Object.keys(metadata).every((k) => /^[a-zA-Z0-9-_:. ]{1,255}$/.test(k))).toBe(true);
    expect(fromNovaMetadata(metadata)).toEqual(labels);
  });
});
