import { randomUUID } from 'node:crypto';
import { afterAll, expect } from 'vitest';
import { describeProviderContract } from '../../contract/provider-contract.js';
import { LabFaults } from './lab-faults.js';
import { labClient, labProvider } from './lab.js';

let faults: LabFaults | undefined;

// The shared provider contract against a real standalone Ironic (Debian's packages,
// fake-hardware nodes), started by scripts/ironic-lab/up.sh.
describeProviderContract(
  'baremetal (Ironic lab)',
  async () => {
    faults = new LabFaults(labClient());
    const provider = labProvider({}, { fetch: faults.fetch });
    return {
      provider,
      image: 'ubuntu-22.04',
      small: { cpus: 2, memoryMiB: 4096 },
      unknownMachineId: randomUUID(),
      faults,
    };
  },
  {
    skip: {
      network:
        'bare metal attaches to the provisioning network the operator set up; it cannot create networks (capabilities.networks is false, ensureNetwork refuses any but the configured one)',
    },
    // The lab has 40 nodes of the small shape; the suite keeps about 15 machines up at once.
    concurrency: 20,
    timeoutMs: 180_000,
  },
);

// The fault rules pass only if the faults reached the provider: check each was served.
afterAll(() => {
  expect(faults?.served).toEqual({ throttle: 3, transient: 2, dropAfterCreate: 1, capacity: 1 });
});
