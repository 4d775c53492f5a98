import { VirtualClock } from '../../../src/core/index.js';
import { sim } from '../../../src/providers/sim/index.js';
import { describeProviderContract } from '../../contract/provider-contract.js';

describeProviderContract('sim', async () => {
  // Virtual time that jumps ahead whenever the process waits on it: boot latency,
  // backoff and polling cost nothing, and the run is the same every time.
  const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });
  const provider = sim(
    {
      seed: 7,
      latency: { apiMs: 20, bootMs: 30_000, stopMs: 5_000, deleteMs: 5_000 },
      apiRate: { perSecond: 20, burst: 40 },
    },
    { clock },
  );
  return {
    provider,
    clock,
    image: 'ubuntu-22.04',
    small: { cpus: 1, memoryMiB: 1024 },
    unknownMachineId: 'sim-zzzzzz',
    faults: {
      timeoutAfterCreate: () => provider.control.inject('timeoutAfterSuccess'),
      throttle: (n) => provider.control.inject('throttle', n),
      transient: (n) => provider.control.inject('transient', n),
      capacity: () => provider.control.inject('capacity'),
    },
  };
});
