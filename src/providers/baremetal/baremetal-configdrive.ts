/**
 * The config drive a deployed node boots with: OpenStack metadata (instance id,
 * host name, SSH keys, kumo's labels) and the user data, in the layout cloud-init,
 * Ignition and Glean read. Ironic 1.56+ takes it as JSON and builds the image
 * itself; older servers take only the gzipped, base64 ISO, which kumo then builds.
 */
import { gzipSync } from 'node:zlib';
import type { Labels } from '../../core/index.js';
import { buildIso9660, type IsoFile } from './baremetal-iso.js';

export interface ConfigDriveInput {
  /** The instance UUID (the machine's `providerId`). */
  readonly instance: string;
  /** The machine's name, used as host name. */
  readonly name: string;
  readonly zone: string;
  readonly sshKeys: readonly string[];
  readonly userData?: string | undefined;
  /** Every label, kumo's ownership tags included; they reach the machine as `meta`. */
  readonly labels: Labels;
}

/** The metadata versions written, as openstacksdk writes them. */
const VERSIONS = ['2012-08-10', 'latest'] as const;

/** `meta_data.json` as Nova writes it, with the fields cloud-init reads. */
export function configDriveMetadata(input: ConfigDriveInput): Record<string, unknown> {
  return {
    uuid: input.instance,
    name: input.name,
    hostname: input.name,
    availability_zone: input.zone,
    launch_index: 0,
    public_keys: Object.fromEntries(input.sshKeys.map((key, i) => [`key-${i}`, key])),
    keys: input.sshKeys.map((key, i) => ({ name: `key-${i}`, type: 'ssh', data: key })),
    meta: { ...input.labels },
  };
}

/** The JSON config drive of Ironic API 1.56+ (`{ meta_data, user_data }`). */
export function configDriveJson(input: ConfigDriveInput): Record<string, unknown> {
  return {
    meta_data: configDriveMetadata(input),
    ...(input.userData === undefined ? {} : { user_data: input.userData }),
  };
}

/** The files of the drive, for every metadata version. */
export function configDriveFiles(input: ConfigDriveInput): IsoFile[] {
  const meta = Buffer.from(JSON.stringify(configDriveMetadata(input)), 'utf8');
  return VERSIONS.flatMap((v) => [
    { path: `openstack/${v}/meta_data.json`, data: meta },
    ...(input.userData === undefined
      ? []
      : [{ path: `openstack/${v}/user_data`, data: Buffer.from(input.userData, 'utf8') }]),
  ]);
}

/**
 * The config drive as Ironic before 1.56 takes it: an ISO 9660 image labelled
 * `config-2`, gzipped, base64.
 *
 * @example
 * ```ts
 * const drive = configDriveIso({ instance, name: 'web-0', zone: 'default', sshKeys: [], labels: {} }, new Date());
 * await ironic.setProvisionState(node, { target: 'active', configdrive: drive });
 * ```
 */
export function configDriveIso(input: ConfigDriveInput, date: Date): string {
  const iso = buildIso9660({ volumeId: 'config-2', files: configDriveFiles(input), date });
  return gzipSync(iso).toString('base64');
}
