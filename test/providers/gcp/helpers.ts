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
  close(): Promise<void>;
}

/** Fast retries: tests exercise the retry paths, not the waiting. */
export const FAST_RETRY = { attempts: 8, baseMs: 5, maxMs: 50 } as const;

/** A provider on `fake`, with a test token and no client-side pacing to speak of. */
export function providerOn(
  fake: GceFake,
  options: Partial<GcpOptions> = {},
  deps: GcpDeps = {},
): ReturnType<typeof gcp> {
  return gcp(
    {
      project: fake.project,
      region: 'us-central1',
      authClient: testAuthClient(),
      retry: FAST_RETRY,
      rateLimit: { queriesPerMinute: 60_000, concurrency: 32, waitConcurrency: 256 },
      ...options,
    },
    deps,
  );
}

/** A fresh fake Compute Engine (interceptors installed) and a provider on it. */
export function harness(
  options: { fake?: GceFakeOptions; provider?: Partial<GcpOptions>; deps?: GcpDeps } = {},
): Harness {
  const fake = installGceFake(options.fake);
  const provider = providerOn(fake, options.provider, options.deps);
  return {
    fake,
    provider,
    async close() {
      await provider.close();
      fake.restore();
    },
  };
}
