/**
 * The Compute Engine wire fake. Install it before creating a provider; restore it after.
 *
 * @example
 * ```ts
 * const fake = installGceFake({ quota: { queries: 600 } });
 * const provider = gcp({ project: fake.project, region: 'us-central1', authClient: testAuthClient() });
 * fake.faults.throttle(3);
 * ```
 */
import { googleAuthLibrary } from 'google-gax';
import { GceFake, type GceFakeOptions } from './gce-fake.js';

export {
  GceFake,
  COMPUTE_ORIGIN,
  TOKEN_ORIGIN,
  type GceFakeOptions,
  type GceFaults,
  type GceQuotaOptions,
} from './gce-fake.js';
export { API } from './gce-catalog.js';

/** Creates a fake Compute Engine and installs its interceptors. */
export function installGceFake(options: GceFakeOptions = {}): GceFake {
  return new GceFake(options).install();
}

/**
 * The auth client tests use: an OAuth2Client holding a fixed access token, so no real
 * credentials are ever looked for (no ADC, no metadata server).
 */
export function testAuthClient(
  token = 'test-access-token',
): InstanceType<typeof googleAuthLibrary.OAuth2Client> {
  const client = new googleAuthLibrary.OAuth2Client();
  client.setCredentials({ access_token: token, expiry_date: Date.now() + 3600_000 });
  return client;
}
