/** Shared set-up of the GCP tests: a fake Compute Engine and a provider pointed at it. */
import { gcp, type GcpDeps, type GcpOptions } from '../../../src/providers/gcp/index.js';
import {
  installGceFake,
  testAuthClient,
  type GceFake,
  type GceFakeOptions,
} from '../../fakes/gce/index.js';

export interface Harness {
  readonly fake: GceFake;
  readonly provider: ReturnType<typeof gcp>;
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

/** Fast retries: tests exercise the retry paths, not the waiting. */
export const FAST_RETRY = { attempts: 8, baseMs: 5, maxMs: 50 } as const;

export function harness(
  options: { fake?: GceFakeOptions; provider?: Partial<GcpOptions>; deps?: GcpDeps } = {},
): Harness {
  const fake = installGceFake(options.fake);
  const calls = new Map<string, number>();
  const provider = gcp(
    {
      project: fake.project,
      region: 'us-central1',
      authClient: testAuthClient(),
      retry: FAST_RETRY,
      rateLimit: { queriesPerMinute: 60_000, concurrency: 32, waitConcurrency: 256 },
      ...options.provider,
    },
    { onCall: (m) => calls.set(m, (calls.get(m) ?? 0) + 1), ...options.deps },
  );
  return {
    fake,
    provider,
    calls,
    async close() {
      await provider.close();
      fake.restore();
    },
  };
}
