/**
 * nock scaffolding for the OpenStack unit tests: a cloud at http://cloud.test whose
 * responses are the fixtures recorded from the real lab (hosts rewritten).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { VirtualClock } from '../../../src/core/index.js';
import { openstack, type OpenStackOptions } from '../../../src/providers/openstack/index.js';

export const KEYSTONE = 'http://cloud.test:5000';
export const NOVA = 'http://cloud.test:8774';
export const NEUTRON = 'http://cloud.test:9696';
export const GLANCE = 'http://cloud.test:9292';

/** A fixture by operation and scenario: `fixtures/<name>.json`. */
export function fixture(name: string): Record<string, unknown> {
  const body = JSON.parse(
    readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8'),
  );
  // NOTE: a recorded token expired an hour after it was recorded; serve it as Keystone
  // would now (valid for an hour), or every test that authenticates fails with time.
  if (typeof body?.token?.expires_at === 'string')
    body.token.expires_at = new Date(Date.now() + 3_600_000).toISOString();
  return body;
}

/** Keystone answering a password auth with the lab's catalog. */
export function mockKeystone(times = 1): nock.Scope {
  return nock(KEYSTONE)
    .post('/v3/auth/tokens')
    .times(times)
    .reply(201, () => fixture('keystone-auth-tokens-password'), {
      'X-Subject-Token': 'gAAAA-fixture-token',
      'Content-Type': 'application/json',
    });
}

/** Nova's version document (microversions 2.1–2.93). */
export function mockNovaVersion(): nock.Scope {
  return nock(NOVA).get('/v2.1/').reply(200, fixture('nova-version-v2.1')).persist();
}

export const ENV = {
  OS_AUTH_URL: `${KEYSTONE}/v3`,
  OS_USERNAME: 'kumo',
  OS_PASSWORD: 'not-a-real-password',
  OS_PROJECT_NAME: 'kumo',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_REGION_NAME: 'RegionOne',
};

/** A provider on the mocked cloud, on virtual time (backoff and polling cost nothing). */
export function mockedProvider(
  options: Partial<OpenStackOptions> = {},
  onRetry?: (e: { delayMs: number; error: unknown }) => void,
) {
  const clock = new VirtualClock({ start: Date.now(), autoAdvance: true });
  const provider = openstack(
    { network: '3e1b6c39-4d5a-4f4e-9b7e-1a2b3c4d5e6f', ...options },
    { env: ENV, clock, ...(onRetry === undefined ? {} : { onRetry }) },
  );
  return { provider, clock };
}
