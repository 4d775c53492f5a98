import { describeProviderContract } from '../../contract/provider-contract.js';
import { harness } from './helpers.js';

// The shared provider contract against the Compute Engine wire fake: the official
// client talks HTTP/JSON to nock, which answers as Compute Engine documents.
describeProviderContract('gcp (Compute Engine wire fake)', async () => {
  const h = harness({
    // Generous quotas here: the quota windows themselves are covered in gcp-provider.test.ts.
    fake: { quota: { queries: 100_000, reads: 100_000 } },
  });
  return {
    provider: h.provider,
    image: 'ubuntu-22.04',
    small: { cpus: 1, memoryMiB: 1024 },
    unknownMachineId: 'us-central1-a/never-was-0',
    faults: h.fake.faults,
    teardown: () => h.close(),
  };
});
