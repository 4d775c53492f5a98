import { describe, expect, it } from 'vitest';
import {
  GCE_MAX_DISK_GIB,
  gpuComboToSize,
  instanceToMachine,
  machineTypeToSize,
  parseSizeName,
  toState,
} from '../../../src/providers/gcp/gcp-mapper.js';

describe('instance status → machine state', () => {
  it('maps every documented status, TERMINATED being a stopped VM that can start again', () => {
    expect(
      Object.fromEntries(
        [
          'PROVISIONING',
          'STAGING',
          'RUNNING',
          'STOPPING',
          'SUSPENDING',
          'SUSPENDED',
          'REPAIRING',
          'TERMINATED',
        ].map((s) => [s, toState(s)]),
      ),
    ).toEqual({
      PROVISIONING: 'pending',
      STAGING: 'pending',
      RUNNING: 'running',
      STOPPING: 'stopping',
      SUSPENDING: 'stopping',
      SUSPENDED: 'stopped',
      REPAIRING: 'pending',
      TERMINATED: 'stopped',
    });
  });

  it('reports an unknown status as an error carrying the status, not as a guess', () => {
    const m = instanceToMachine(
      { name: 'x', zone: 'z/zones/us-central1-a', status: 'HIBERNATING' },
      { provider: 'gcp', region: 'us-central1' },
    );
    expect(m.state).toBe('error');
    expect(m.error).toBe('unknown Compute Engine status HIBERNATING');
  });
});

describe('machine types → sizes', () => {
  it('gives shared-core types their sustained vCPU share and keeps the listed count in extra', () => {
    const s = machineTypeToSize(
      { name: 'e2-small', guestCpus: 2, memoryMb: 2048, isSharedCpu: true },
      ['us-central1-a'],
      'gcp',
    );
    expect(s).toMatchObject({
      name: 'e2-small',
      resources: { cpus: 0.5, memoryMiB: 2048, gpus: 0, diskGiB: GCE_MAX_DISK_GIB },

      spot: true,
      extra: { guestCpus: 2, sharedCpu: true },
    });
    // Listed at 0.016751; half a vCPU at the E2 rate rounds to the next millionth.
    expect(s.pricePerHour).toBeCloseTo(0.016751, 5);
  });

  it('marks f1 and g1 as not available as Spot', () => {
    expect(
      machineTypeToSize(
        { name: 'f1-micro', guestCpus: 1, memoryMb: 614, isSharedCpu: true },
        [],
        'gcp',
      ).spot,
    ).toBe(false);
  });

  it('leaves the price out for families the bundled table does not know', () => {
    expect(
      machineTypeToSize({ name: 'm3-ultramem-32', guestCpus: 32, memoryMb: 999424 }, [], 'gcp')
        .pricePerHour,
    ).toBeUndefined();
  });

  it('prices N1 with attached GPUs as the machine plus the GPUs, without a guessed Spot price', () => {
    const base = machineTypeToSize(
      { name: 'n1-standard-4', guestCpus: 4, memoryMb: 15360 },
      ['us-central1-a', 'us-central1-b'],
      'gcp',
    );
    const s = gpuComboToSize(base, 'nvidia-tesla-t4', 2, ['us-central1-a'], 'gcp');
    expect(s).toMatchObject({
      name: 'n1-standard-4+2xnvidia-tesla-t4',
      resources: { cpus: 4, gpus: 2 },
      zones: ['us-central1-a'],
    });
    expect(s.pricePerHour).toBeCloseTo(base.pricePerHour! + 0.7, 6);
    expect(s.spotPricePerHour).toBeUndefined();
    expect(parseSizeName(s.name)).toEqual({
      machineType: 'n1-standard-4',
      accelerator: { type: 'nvidia-tesla-t4', count: 2 },
    });
    expect(parseSizeName('e2-standard-4')).toEqual({ machineType: 'e2-standard-4' });
  });
});

describe('instances → machines', () => {
  it('decodes kumo-encoded labels and keeps console-made ones as they are', () => {
    const m = instanceToMachine(
      {
        name: 'w-0',
        zone: 'https://www.googleapis.com/compute/v1/projects/p/zones/us-central1-a',
        status: 'RUNNING',
        labels: { app_2eexample_2ecom_2fname: '_57eb_5f_41_50_49', env: 'Prod_Ready' },
      },
      { provider: 'gcp', region: 'us-central1' },
    );
    expect(m.labels).toEqual({ 'app.example.com/name': 'Web_API', env: 'Prod_Ready' });
    expect(m.providerId).toBe('us-central1-a/w-0');
  });

  it('counts attached GPUs even when the size is unknown, and reads the boot disk size from its int64 string', () => {
    const m = instanceToMachine(
      {
        name: 'g-0',
        zone: 'zones/us-central1-a',
        status: 'RUNNING',
        guestAccelerators: [{ acceleratorType: 'x/nvidia-tesla-t4', acceleratorCount: 2 }],
        disks: [{ boot: true, diskSizeGb: '200' }],
      },
      { provider: 'gcp', region: 'us-central1' },
    );
    expect(m.resources).toEqual({ cpus: 0, memoryMiB: 0, gpus: 2, diskGiB: 200 });
  });
});
