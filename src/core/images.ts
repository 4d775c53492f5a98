/**
 * Image aliases: one name per OS release that every provider resolves to its own
 * image (an AMI, a GCE image family, a Glance image, an Ironic image URL).
 */
export interface ImageAlias {
  readonly alias: string;
  readonly os: string;
  readonly version: string;
  /** Release code name where the distribution has one (Ubuntu, Debian). */
  readonly codename?: string;
}

export const IMAGE_ALIASES: readonly ImageAlias[] = [
  { alias: 'ubuntu-20.04', os: 'ubuntu', version: '20.04', codename: 'focal' },
  { alias: 'ubuntu-22.04', os: 'ubuntu', version: '22.04', codename: 'jammy' },
  { alias: 'ubuntu-24.04', os: 'ubuntu', version: '24.04', codename: 'noble' },
  { alias: 'debian-11', os: 'debian', version: '11', codename: 'bullseye' },
  { alias: 'debian-12', os: 'debian', version: '12', codename: 'bookworm' },
  { alias: 'rocky-9', os: 'rocky', version: '9' },
  { alias: 'amazon-linux-2023', os: 'amazon-linux', version: '2023' },
  { alias: 'cirros-0.6', os: 'cirros', version: '0.6' },
];

/** The alias entry for `name`, if it is one. */
export function findImageAlias(name: string): ImageAlias | undefined {
  return IMAGE_ALIASES.find((a) => a.alias === name.toLowerCase());
}

/** Alias names, for error messages that list what is accepted. */
export function imageAliasNames(): string[] {
  return IMAGE_ALIASES.map((a) => a.alias);
}
