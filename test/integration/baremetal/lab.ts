/**
 * The Ironic lab as tests see it: where scripts/ironic-lab/up.sh left it (lab.json),
 * a provider on it, and a plain wire client for looking behind the provider's back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse, type Clock } from '../../../src/core/index.js';
import type { FetchLike } from '../../../src/clients/openstack/http.js';
import type { IronicClient } from '../../../src/clients/openstack/ironic-client.js';
import {
  BaremetalOptionsSchema,
  type BaremetalOptions,
} from '../../../src/providers/baremetal/baremetal-config.js';
import {
  baremetal,
  ironicClientFor,
  type BaremetalProviderHandle,
} from '../../../src/providers/baremetal/index.js';

export interface IronicLab {
  readonly endpoint: string;
  readonly mode: string;
  /** The SQLite file Ironic keeps its state in (tests read config drives from it: the API masks them). */
  readonly database: string;
  readonly nodesFile: string;
}

const LAB_DIR =
  process.env['KUMO_IRONIC_LAB_DIR'] ?? resolve(import.meta.dirname, '../../../.lab/ironic');

/** The running lab, or an error saying how to start it. */
export function readLab(): IronicLab {
  const file = join(LAB_DIR, 'lab.json');
  if (!existsSync(file))
    throw new Error(
      `the Ironic lab is not up (no ${file}): run scripts/ironic-lab/up.sh first (README, section baremetal)`,
    );
  return JSON.parse(readFileSync(file, 'utf8')) as IronicLab;
}

/**
 * Images the lab deploys. The fake deploy interface never downloads them, so the
 * URLs need not answer; they are shaped as a real HTTP image server's would be.
 */
export const LAB_IMAGES: BaremetalOptions['images'] = {
  'ubuntu-22.04': {
    url: 'http://127.0.0.1:8089/images/ubuntu-22.04-server-cloudimg-amd64.img',
    checksum: 'sha256:4f6a7f3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f',
    os: 'ubuntu',
    version: '22.04',
  },
  'debian-12': {
    url: 'http://127.0.0.1:8089/images/debian-12-generic-amd64.qcow2',
    checksum: 'md5:0123456789abcdef0123456789abcdef',
  },
  'debian-12-arm64': {
    url: 'http://127.0.0.1:8089/images/debian-12-generic-arm64.qcow2',
    checksum: 'sha512:' + 'ab'.repeat(64),
    arch: 'arm64',
  },
};

/** A provider on the lab, polling fast (loopback, fake hardware). */
export function labProvider(
  overrides: Partial<BaremetalOptions> = {},
  deps: { fetch?: FetchLike; clock?: Clock } = {},
): BaremetalProviderHandle {
  const lab = readLab();
  return baremetal(
    {
      name: 'onprem',
      endpoint: lab.endpoint,
      images: LAB_IMAGES,
      pollIntervalMs: 250,
      maxPollIntervalMs: 1000,
      concurrency: 16,
      ratePerSecond: 200,
      ...overrides,
    },
    deps,
  );
}

/** A wire client of its own, for checking what the provider did. */
export function labClient(): IronicClient {
  return ironicClientFor(
    parse(BaremetalOptionsSchema, { endpoint: readLab().endpoint }, 'lab options'),
  );
}
