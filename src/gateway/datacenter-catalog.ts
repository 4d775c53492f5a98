/**
 * What the datacenter offers, as the gateway shows it: flavors (from sizes), images
 * (from aliases) and availability zones (from providers and their zones). Read from
 * the providers at most once per TTL.
 */
import { cached, IMAGE_ALIASES, type Clock, type Size } from '../core/index.js';
import type { LogicalDatacenter } from '../logical-dc/logical-datacenter.js';
import { flavorsFromSizes, type Flavor } from './compute/flavors.js';
import { zonesFromSizes, type Zone } from './compute/zones.js';
import { imagesFromAliases, type GatewayImage } from './image/images.js';

export class DatacenterCatalog {
  readonly flavors: () => Promise<Flavor[]>;
  readonly images: () => Promise<GatewayImage[]>;
  readonly zones: () => Promise<Zone[]>;
  readonly #sizes: () => Promise<Map<string, Size[]>>;

  constructor(dc: LogicalDatacenter, clock: Clock, ttlMs = 300_000) {
    this.#sizes = cached(
      async () =>
        new Map(
          await Promise.all(
            [...dc.providers].map(async ([name, p]) => [name, await p.listSizes()] as const),
          ),
        ),
      ttlMs,
      clock,
    );
    this.flavors = cached(
      async () => flavorsFromSizes([...(await this.#sizes()).values()].flat()),
      ttlMs,
      clock,
    );
    this.zones = cached(async () => zonesFromSizes(await this.#sizes()), ttlMs, clock);
    this.images = cached(
      async () => {
        const resolvable = new Map<string, string[]>();
        await Promise.all(
          IMAGE_ALIASES.map(async (a) => {
            const found = await Promise.all(
              [...dc.providers].map(async ([name, p]) => {
                try {
                  await p.resolveImage(a.alias);
                  return name;
                } catch {
                  // NOTE: a provider without this OS simply does not offer it; the image lists those that do.
                  return undefined;
                }
              }),
            );
            resolvable.set(
              a.alias,
              found.filter((n): n is string => n !== undefined),
            );
          }),
        );
        return imagesFromAliases(resolvable);
      },
      ttlMs,
      clock,
    );
  }

  async flavor(idOrName: string): Promise<Flavor | undefined> {
    const all = await this.flavors();
    return all.find((f) => f.id === idOrName) ?? all.find((f) => f.name === idOrName);
  }

  async image(idOrName: string): Promise<GatewayImage | undefined> {
    const all = await this.images();
    return all.find((i) => i.id === idOrName) ?? all.find((i) => i.name === idOrName);
  }
}
