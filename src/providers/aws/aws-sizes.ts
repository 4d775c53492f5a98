/**
 * The instance-type catalog of one region: DescribeInstanceTypes (paginated) joined
 * with DescribeInstanceTypeOfferings for the zones, priced from the bundled table,
 * cached with a TTL. Spot prices come from DescribeSpotPriceHistory on demand, cached
 * for a shorter while.
 */
import {
  DescribeInstanceTypeOfferingsCommand,
  DescribeInstanceTypesCommand,
  DescribeSpotPriceHistoryCommand,
  type InstanceTypeInfo,
} from '@aws-sdk/client-ec2';
import type { Clock, Size } from '../../core/index.js';
import type { Ec2 } from './aws-client.js';
import type { AwsConfig } from './aws-config.js';
import { toSize } from './aws-mapper.js';
import { onDemandPrice } from './aws-prices.js';

interface Cached<T> {
  readonly value: T;
  readonly at: number;
}

export class SizeCatalog {
  #sizes: Cached<Size[]> | undefined;
  #loading: Promise<Size[]> | undefined;
  #spot: Cached<Map<string, Map<string, number>>> | undefined;
  #spotLoading: Promise<Map<string, Map<string, number>>> | undefined;

  constructor(
    readonly ec2: Ec2,
    readonly config: AwsConfig,
    readonly clock: Clock,
  ) {}

  /** Every size of the region (cached for `sizeCacheTtlMs`); concurrent callers share one load. */
  async sizes(signal?: AbortSignal): Promise<Size[]> {
    if (this.#sizes !== undefined && this.clock.now() - this.#sizes.at < this.config.sizeCacheTtlMs)
      return this.#sizes.value;
    this.#loading ??= this.#load(signal).finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  /** The size of one instance type, from the cache. */
  async find(name: string, signal?: AbortSignal): Promise<Size | undefined> {
    return (await this.sizes(signal)).find((s) => s.name === name);
  }

  async #load(signal?: AbortSignal): Promise<Size[]> {
    const [types, zones] = await Promise.all([this.#types(signal), this.#offerings(signal)]);
    const out: Size[] = [];
    for (const info of types) {
      const name = info.InstanceType ?? '';
      const size = toSize(info, {
        provider: this.config.name,
        zones: zones.get(name) ?? [],
        pricePerHour: onDemandPrice(this.config.region, name, this.config.prices),
      });
      if (size !== undefined) out.push(size);
    }
    out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.#sizes = { value: out, at: this.clock.now() };
    return out;
  }

  async #types(signal?: AbortSignal): Promise<InstanceTypeInfo[]> {
    const out: InstanceTypeInfo[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.call(
        'DescribeInstanceTypes',
        (c, abortSignal) =>
          c.send(
            new DescribeInstanceTypesCommand({
              MaxResults: 100,
              ...(this.config.includePreviousGeneration
                ? {}
                : { Filters: [{ Name: 'current-generation', Values: ['true'] }] }),
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            { abortSignal },
          ),
        signal,
      );
      out.push(...(page.InstanceTypes ?? []));
      token = page.NextToken || undefined;
    } while (token !== undefined);
    return out;
  }

  async #offerings(signal?: AbortSignal): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    let token: string | undefined;
    do {
      const page = await this.ec2.call(
        'DescribeInstanceTypeOfferings',
        (c, abortSignal) =>
          c.send(
            new DescribeInstanceTypeOfferingsCommand({
              LocationType: 'availability-zone',
              MaxResults: 1000,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            { abortSignal },
          ),
        signal,
      );
      for (const o of page.InstanceTypeOfferings ?? []) {
        if (o.InstanceType === undefined || o.Location === undefined) continue;
        const zones = out.get(o.InstanceType) ?? [];
        zones.push(o.Location);
        out.set(o.InstanceType, zones);
      }
      token = page.NextToken || undefined;
    } while (token !== undefined);
    return out;
  }

  /** Latest Linux spot price by instance type and zone (cached for `spotPriceTtlMs`). */
  async spotPrices(signal?: AbortSignal): Promise<Map<string, Map<string, number>>> {
    if (this.#spot !== undefined && this.clock.now() - this.#spot.at < this.config.spotPriceTtlMs)
      return this.#spot.value;
    this.#spotLoading ??= this.#loadSpot(signal).finally(() => (this.#spotLoading = undefined));
    return this.#spotLoading;
  }

  async #loadSpot(signal?: AbortSignal): Promise<Map<string, Map<string, number>>> {
    const out = new Map<string, Map<string, number>>();
    const newest = new Map<string, number>();
    let token: string | undefined;
    // NOTE: a StartTime of now makes EC2 return the price in force now for every
    // type and zone, instead of the whole history.
    const now = new Date(this.clock.now());
    do {
      const page = await this.ec2.call(
        'DescribeSpotPriceHistory',
        (c, abortSignal) =>
          c.send(
            new DescribeSpotPriceHistoryCommand({
              ProductDescriptions: ['Linux/UNIX'],
              StartTime: now,
              MaxResults: 1000,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            { abortSignal },
          ),
        signal,
      );
      for (const p of page.SpotPriceHistory ?? []) {
        const price = Number(p.SpotPrice);
        if (
          p.InstanceType === undefined ||
          p.AvailabilityZone === undefined ||
          !Number.isFinite(price)
        )
          continue;
        const key = `${p.InstanceType}|${p.AvailabilityZone}`;
        const at = p.Timestamp?.getTime() ?? 0;
        if ((newest.get(key) ?? -1) > at) continue;
        newest.set(key, at);
        const zones = out.get(p.InstanceType) ?? new Map<string, number>();
        zones.set(p.AvailabilityZone, price);
        out.set(p.InstanceType, zones);
      }
      token = page.NextToken || undefined;
    } while (token !== undefined);
    this.#spot = { value: out, at: this.clock.now() };
    return out;
  }
}

/** Sizes with their spot price: the given zone's, or the cheapest zone's. */
export function withSpotPrices(
  sizes: readonly Size[],
  prices: ReadonlyMap<string, ReadonlyMap<string, number>>,
  zone?: string,
): Size[] {
  return sizes.map((s) => {
    const byZone = prices.get(s.name);
    if (!s.spot || byZone === undefined) return s;
    const candidates =
      zone === undefined
        ? [...byZone.values()]
        : [byZone.get(zone)].filter((p): p is number => p !== undefined);
    if (candidates.length === 0) return s;
    return { ...s, spotPricePerHour: Math.min(...candidates) };
  });
}
