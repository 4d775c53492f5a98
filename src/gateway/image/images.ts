/**
 * Images: kumo's image aliases (`ubuntu-22.04`, `debian-12`, …), each with a stable
 * UUID, listed where at least one provider of the datacenter resolves it. A server
 * booted from one gets the alias, which the provider it lands on resolves to its own
 * image (an AMI, a GCE family, a Glance image).
 */
import { IMAGE_ALIASES, type ImageAlias } from '../../core/index.js';
import { stableUuid } from '../ids.js';

export interface GatewayImage {
  readonly id: string;
  /** The alias. */
  readonly name: string;
  readonly os: string;
  readonly version: string;
  /** Providers that resolve the alias. */
  readonly providers: readonly string[];
}

/** The image id of an alias. */
export function imageId(alias: string): string {
  return stableUuid('image', alias);
}

/** The images for `aliases`, given which providers resolve each (aliases no provider resolves are left out). */
export function imagesFromAliases(
  resolvable: ReadonlyMap<string, readonly string[]>,
  aliases: readonly ImageAlias[] = IMAGE_ALIASES,
): GatewayImage[] {
  return aliases
    .filter((a) => (resolvable.get(a.alias) ?? []).length > 0)
    .map((a) => ({
      id: imageId(a.alias),
      name: a.alias,
      os: a.os,
      version: a.version,
      providers: [...(resolvable.get(a.alias) ?? [])].sort(),
    }));
}
