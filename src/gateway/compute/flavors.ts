/**
 * Flavors, derived from the sizes the datacenter's providers offer: one flavor per
 * distinct shape (vCPUs, memory, GPUs, disk, architecture), named after it
 * (`2vcpu-8gib`, `8vcpu-32gib-1gpu`) with an id derived from the shape, so both stay
 * the same across restarts and gateways. A server of a flavor gets the flavor's
 * resources, and the provider it lands on picks its cheapest size that fits.
 */
import type { Arch, Size } from '../../core/index.js';
import { stableUuid } from '../ids.js';

export interface Flavor {
  readonly id: string;
  readonly name: string;
  readonly vcpus: number;
  readonly ramMiB: number;
  readonly diskGiB: number;
  readonly gpus: number;
  readonly arch: Arch;
  /** Providers offering exactly this shape, and their size names. */
  readonly offeredBy: readonly { readonly provider: string; readonly size: string }[];
}

const trim = (n: number): string => String(Math.round(n * 1000) / 1000);

/** The flavor name of a shape: `2vcpu-8gib`, `1vcpu-512mib`, `4vcpu-16gib-1gpu`, `…-100gb-disk`, `…-arm64`. */
export function flavorName(shape: {
  cpus: number;
  memoryMiB: number;
  gpus: number;
  diskGiB: number;
  arch: Arch;
}): string {
  const memory =
    shape.memoryMiB % 1024 === 0 ? `${shape.memoryMiB / 1024}gib` : `${shape.memoryMiB}mib`;
  return [
    `${trim(shape.cpus)}vcpu`,
    memory,
    shape.gpus > 0 ? `${shape.gpus}gpu` : '',
    shape.diskGiB > 0 ? `${shape.diskGiB}gb-disk` : '',
    shape.arch === 'x86_64' ? '' : shape.arch,
  ]
    .filter((p) => p !== '')
    .join('-');
}

/**
 * One flavor per distinct shape among `sizes`, smallest first.
 *
 * @example
 * ```ts
 * flavorsFromSizes(await provider.listSizes()).map((f) => f.name); // ['2vcpu-4gib', '2vcpu-8gib', …]
 * ```
 */
export function flavorsFromSizes(sizes: readonly Size[]): Flavor[] {
  const byName = new Map<
    string,
    {
      shape: Omit<Flavor, 'id' | 'name' | 'offeredBy'>;
      offeredBy: { provider: string; size: string }[];
    }
  >();
  for (const s of sizes) {
    const shape = {
      vcpus: s.resources.cpus,
      ramMiB: s.resources.memoryMiB,
      diskGiB: s.resources.diskGiB,
      gpus: s.resources.gpus,
      arch: s.arch,
    };
    const name = flavorName({
      cpus: shape.vcpus,
      memoryMiB: shape.ramMiB,
      gpus: shape.gpus,
      diskGiB: shape.diskGiB,
      arch: shape.arch,
    });
    const entry = byName.get(name) ?? { shape, offeredBy: [] };
    if (!entry.offeredBy.some((o) => o.provider === s.provider && o.size === s.name))
      entry.offeredBy.push({ provider: s.provider, size: s.name });
    byName.set(name, entry);
  }
  return [...byName]
    .map(([name, { shape, offeredBy }]) => ({
      id: stableUuid('flavor', name),
      name,
      ...shape,
      offeredBy: offeredBy.sort(
        (a, b) => a.provider.localeCompare(b.provider) || a.size.localeCompare(b.size),
      ),
    }))
    .sort(
      (a, b) =>
        a.vcpus - b.vcpus ||
        a.ramMiB - b.ramMiB ||
        a.gpus - b.gpus ||
        a.diskGiB - b.diskGiB ||
        a.name.localeCompare(b.name),
    );
}

/** The flavor a machine's resources correspond to (for servers whose record lost its flavor). */
export function flavorForResources(
  flavors: readonly Flavor[],
  r: { cpus: number; memoryMiB: number; gpus: number; diskGiB: number },
): Flavor | undefined {
  return flavors.find(
    (f) =>
      f.vcpus === r.cpus &&
      f.ramMiB === r.memoryMiB &&
      f.gpus === r.gpus &&
      f.diskGiB === r.diskGiB,
  );
}
