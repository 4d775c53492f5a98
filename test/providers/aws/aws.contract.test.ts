import { seededRandom, VirtualClock } from '../../../src/core/index.js';
import { aws } from '../../../src/providers/aws/index.js';
import { describeProviderContract } from '../../contract/provider-contract.js';
import { Ec2Fake, testCredentials } from '../../fakes/ec2/index.js';

describeProviderContract('aws (EC2 wire fake)', async () => {
  // Virtual time that jumps ahead whenever the process waits on it: EC2's documented
  // rate limits, boot times and backoff all hold and cost no wall time. (It also leaps
  // over requests in flight, which only adds throttling for the retries to absorb;
  // the benchmark, which measures time, uses a SettlingClock instead.)
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
  const fake = new Ec2Fake({ clock, bootMs: 20_000, seed: 11 }).install();
  const provider = aws(
    { region: 'us-east-1', credentials: testCredentials(), retryMode: 'standard' },
    { clock, random: seededRandom(5) },
  );
  return {
    provider,
    clock,
    image: 'ubuntu-22.04',
    small: { cpus: 1, memoryMiB: 1024 },
    unknownMachineId: 'i-0123456789abcdef0',
    faults: fake.faults,
    teardown: () => {
      provider.close();
      fake.uninstall();
      return Promise.resolve();
    },
  };
});
