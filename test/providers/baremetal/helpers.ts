/**
 * nock scaffolding for the bare-metal unit tests: an Ironic at http://ironic.test
 * whose answers are the fixtures recorded from the lab (hosts rewritten).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { VirtualClock } from '../../../src/core/index.js';
import { baremetal, type BaremetalOptions } from '../../../src/providers/baremetal/index.js';

export const IRONIC = 'http://ironic.test:6385';
export const KEYSTONE = 'http://cloud.test:5000';

/** A fixture by operation and scenario (`fixtures/<name>.json`), lab host names rewritten. */
export function fixture(name: string): Record<string, unknown> {
  const text = readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8');
  const body = JSON.parse(text.replaceAll('http://127.0.0.1:6385', IRONIC)) as Record<
    string,
    unknown
  >;
  // NOTE: a recorded Keystone token expired an hour after recording; serve it as fresh.
  const token = body.token as { expires_at?: string } | undefined;
  if (typeof token?.expires_at === 'string')
    token.expires_at = new Date(Date.now() + 3_600_000).toISOString();
  return body;
}

/** Ironic's root document offering `min`…`max`. */
export function root(max = '1.82', min = '1.1'): Record<string, unknown> {
  const body = fixture('root-get') as {
    default_version: Record<string, unknown>;
    versions: Record<string, unknown>[];
  };
  body.default_version = { ...body.default_version, min_version: min, version: max };
  body.versions = body.versions.map((v) => ({ ...v, min_version: min, version: max }));
  return body;
}

/** A provider on the mocked Ironic, on virtual time (backoff and polling cost nothing). */
export function mockedProvider(options: Partial<BaremetalOptions> = {}) {
  const clock = new VirtualClock({ start: Date.now(), autoAdvance: true });
  return baremetal(
    {
      endpoint: IRONIC,
      images: {
        'ubuntu-22.04': {
          url: 'http://images.test/jammy.img',
          checksum: 'md5:0123456789abcdef0123456789abcdef',
        },
      },
      ...options,
    },
    { clock },
  );
}

/** Ironic's error body (`error_message` holding a JSON string) for a fault text. */
export function ironicError(faultstring: string): Record<string, unknown> {
  return { error_message: JSON.stringify({ faultcode: 'Client', faultstring, debuginfo: null }) };
}

export { nock };
