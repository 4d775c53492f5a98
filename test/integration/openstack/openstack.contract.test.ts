import { randomUUID } from 'node:crypto';
import { describe, it } from 'vitest';
import { describeProviderContract } from '../../contract/provider-contract.js';
import { faultyFetch, labMissing, labProvider } from './lab.js';

const missing = labMissing();

if (missing !== undefined) {
  describe('provider contract: openstack (real lab)', () => {
    it.skip(`skipped: ${missing}`, () => {});
  });
} else {
  describeProviderContract(
    'openstack (real lab)',
    async () => {
      const transport = faultyFetch();
      const provider = labProvider({}, { fetch: transport.fetch });
      return {
        provider,
        image: 'ubuntu-22.04',
        small: { cpus: 1, memoryMiB: 512 },
        unknownMachineId: randomUUID(),
        faults: transport.faults,
      };
    },
    {
      // NOTE: the lab's one nova-api worker shares two cores with everything else; a
      // server POST takes 1–10 s there. 50 servers keep the concurrency case real
      // (several limiter slots, several pages at max_limit 25) and the run inside CI's budget.
      concurrency: 50,
      timeoutMs: 600_000,
    },
  );
}
