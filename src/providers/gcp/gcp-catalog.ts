/**
 * What the region offers, fetched once and cached: its zones, the machine types of
 * each zone (paged `machineTypes.list`), the GPUs that can be attached (paged
 * `acceleratorTypes.list`), turned into neutral sizes — plus custom machine types
 * proposed to measure for a request.
 */
import { ValidationError, type Clock, type Resources, type Size } from '../../core/index.js';
import {
  CUSTOM_FAMILIES,
  checkCustomType,
  isCustomTypeName,
  proposeCustomType,
} from './gcp-custom-types.js';
import type {
  ComputeApi,
  GceAcceleratorType,
  GceMachineType,
  GceZone,
  ListAcceleratorTypesRequest,
  ListMachineTypesRequest,
  ListZonesRequest,
} from './gcp-compute.js';
import { customTypeToSize, gpuComboToSize, machineTypeToSize } from './gcp-mapper.js';
import { GPU_RATES } from './gcp-prices.js';

/**
 * Most vCPUs an N1 machine may have per number of attached GPUs of each model
 * ("GPU machine types", Compute Engine docs, June 2024).
 */
const N1_GPU_CPU_LIMITS: Readonly<Record<string, Readonly<Record<number, number>>>> = {
  'nvidia-tesla-t4': { 1: 48, 2: 48, 4: 96 },
  'nvidia-tesla-p4': { 1: 24, 2: 48, 4: 96 },
  'nvidia-tesla-p100': { 1: 16, 2: 32, 4: 64 },
  'nvidia-tesla-v100': { 1: 12, 2: 24, 4: 48, 8: 96 },
};
/** N1 shapes offered with attached GPUs. */
const N1_GPU_BASES = /^n1-(standard|highmem)-\d+$/;

interface Snapshot {
  readonly at: number;
  readonly zones: readonly string[];
  /** Predefined and GPU sizes, merged over zones. */
  readonly sizes: readonly Size[];
  /** Zones where each machine family is offered (custom types follow their family). */
  readonly familyZones: ReadonlyMap<string, readonly string[]>;
}

export interface CatalogOptions {
  readonly provider: string;
  readonly region: string;
  readonly zones?: readonly string[] | undefined;
  readonly ttlMs: number;
  readonly clock: Clock;
  readonly project: () => Promise<string>;
}

export class GcpCatalog {
  readonly #api: ComputeApi;
  readonly #o: CatalogOptions;
  #snapshot: Snapshot | undefined;
  #loading: Promise<Snapshot> | undefined;
  #zones: { at: number; zones: readonly string[] } | undefined;
  #zonesLoading: Promise<readonly string[]> | undefined;

  constructor(api: ComputeApi, options: CatalogOptions) {
    this.#api = api;
    this.#o = options;
  }

  /** Zones of the region in use (configured, or every zone that is UP), cached for `ttlMs`. */
  async zones(signal?: AbortSignal): Promise<readonly string[]> {
    if (this.#o.zones !== undefined) return this.#o.zones;
    const cached = this.#zones;
    if (cached !== undefined && this.#o.clock.now() - cached.at < this.#o.ttlMs)
      return cached.zones;
    this.#zonesLoading ??= (async () => {
      const project = await this.#o.project();
      const zones = await this.#regionZones(project, signal);
      this.#zones = { at: this.#o.clock.now(), zones };
      return zones;
    })().finally(() => (this.#zonesLoading = undefined));
    return this.#zonesLoading;
  }

  /** Predefined sizes (and N1 sizes with GPUs attached), cached for `ttlMs`. */
  async sizes(signal?: AbortSignal): Promise<readonly Size[]> {
    return (await this.#load(signal)).sizes;
  }

  /**
   * Custom types made to measure for `resources`: the smallest valid shape of each
   * custom family offered in the region. Empty when GPUs are wanted (custom types
   * here carry none).
   */
  async customSizesFor(resources: Resources, signal?: AbortSignal): Promise<Size[]> {
    if (resources.gpus > 0) return [];
    const snap = await this.#load(signal);
    const out: Size[] = [];
    for (const rule of CUSTOM_FAMILIES) {
      const zones = snap.familyZones.get(rule.family);
      if (zones === undefined || zones.length === 0) continue;
      const type = proposeCustomType(rule, resources.cpus, resources.memoryMiB);
      if (type !== undefined) out.push(customTypeToSize(type, zones, this.#o.provider));
    }
    return out;
  }

  /**
   * The size named `name`: predefined, N1 with GPUs, or custom (checked against the
   * family's rules and offered where the family is).
   * @throws ValidationError naming the rule a custom type breaks, or the unknown size.
   */
  async sizeByName(name: string, signal?: AbortSignal): Promise<Size> {
    const snap = await this.#load(signal);
    const known = snap.sizes.find((s) => s.name === name);
    if (known !== undefined) return known;
    if (isCustomTypeName(name)) {
      const checked = checkCustomType(name);
      if ('problems' in checked)
        throw new ValidationError(`size "${name}": ${checked.problems.join('; ')}`, {
          provider: this.#o.provider,
          issues: checked.problems.map((message) => ({ path: 'spec.size', message })),
        });
      const zones = snap.familyZones.get(checked.type.family) ?? [];
      if (zones.length === 0)
        throw new ValidationError(
          `size "${name}": no zone of ${this.#o.region} offers ${checked.type.family.toUpperCase()} machines`,
          {
            provider: this.#o.provider,
            issues: [{ path: 'spec.size', message: 'family not offered in this region' }],
          },
        );
      return customTypeToSize(checked.type, zones, this.#o.provider);
    }
    const examples = snap.sizes.slice(0, 4).map((s) => s.name);
    throw new ValidationError(
      `unknown size "${name}" in ${this.#o.region}; sizes are e.g. ${examples.join(', ')}, or a custom type such as e2-custom-4-8192 (see kumo sizes)`,
      {
        provider: this.#o.provider,
        issues: [{ path: 'spec.size', message: 'unknown size' }],
      },
    );
  }

  /**
   * The size of a machine type seen on an instance: from the cached catalog, or parsed
   * from a custom type's name (an existing machine's shape is known whatever is offered now).
   */
  async sizeOfInstanceType(name: string, signal?: AbortSignal): Promise<Size | undefined> {
    const snap = await this.#load(signal);
    const known = snap.sizes.find((s) => s.name === name);
    if (known !== undefined) return known;
    const checked = isCustomTypeName(name) ? checkCustomType(name) : undefined;
    if (checked !== undefined && 'type' in checked)
      return customTypeToSize(
        checked.type,
        snap.familyZones.get(checked.type.family) ?? [],
        this.#o.provider,
      );
    return undefined;
  }

  /** Forgets the cache, e.g. after a zone was added to the project. */
  invalidate(): void {
    this.#snapshot = undefined;
    this.#zones = undefined;
  }

  async #load(signal?: AbortSignal): Promise<Snapshot> {
    const snap = this.#snapshot;
    if (snap !== undefined && this.#o.clock.now() - snap.at < this.#o.ttlMs) return snap;
    // NOTE: one fetch however many callers ask at once (200 concurrent creates share it).
    this.#loading ??= this.#fetch(signal).finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #fetch(signal?: AbortSignal): Promise<Snapshot> {
    const project = await this.#o.project();
    const zones = await this.zones(signal);
    const perZone = await Promise.all(
      zones.map(async (zone) => {
        const [types, accelerators] = await Promise.all([
          this.#api.listAll<ListMachineTypesRequest, GceMachineType>(
            'machineTypes.list',
            `listing machine types in ${zone}`,
            (r, o) => this.#api.machineTypes.list(r, o),
            { project, zone },
            signal,
          ),
          this.#api.listAll<ListAcceleratorTypesRequest, GceAcceleratorType>(
            'acceleratorTypes.list',
            `listing accelerator types in ${zone}`,
            (r, o) => this.#api.acceleratorTypes.list(r, o),
            { project, zone },
            signal,
          ),
        ]);
        return { zone, types, accelerators };
      }),
    );
    const byName = new Map<string, { type: GceMachineType; zones: string[] }>();
    const familyZones = new Map<string, string[]>();
    for (const { zone, types } of perZone) {
      for (const t of types) {
        const state = t.deprecated?.state;
        if (!t.name || state === 'OBSOLETE' || state === 'DELETED') continue;
        const entry = byName.get(t.name) ?? { type: t, zones: [] };
        entry.zones.push(zone);
        byName.set(t.name, entry);
        const family = t.name.split('-')[0]!;
        const fz = familyZones.get(family) ?? [];
        if (!fz.includes(zone)) fz.push(zone);
        familyZones.set(family, fz);
      }
    }
    const sizes = [...byName.values()].map(({ type, zones: z }) =>
      machineTypeToSize(type, z, this.#o.provider),
    );
    // N1 machines with GPUs attached, where the zone offers both.
    const combos = new Map<
      string,
      { base: Size; accelerator: string; count: number; zones: string[] }
    >();
    for (const { zone, types, accelerators } of perZone) {
      for (const acc of accelerators) {
        const limits = acc.name ? N1_GPU_CPU_LIMITS[acc.name] : undefined;
        if (acc.name == null || limits === undefined || GPU_RATES[acc.name] === undefined) continue;
        for (const [countText, maxCpus] of Object.entries(limits)) {
          const count = Number(countText);
          if (count > (acc.maximumCardsPerInstance ?? 0)) continue;
          for (const t of types) {
            if (!t.name || !N1_GPU_BASES.test(t.name) || (t.guestCpus ?? 0) > maxCpus) continue;
            const base = sizes.find((s) => s.name === t.name);
            if (base === undefined) continue;
            const key = `${t.name}+${count}x${acc.name}`;
            const entry = combos.get(key) ?? { base, accelerator: acc.name, count, zones: [] };
            entry.zones.push(zone);
            combos.set(key, entry);
          }
        }
      }
    }
    for (const c of combos.values())
      sizes.push(gpuComboToSize(c.base, c.accelerator, c.count, c.zones, this.#o.provider));
    sizes.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const snapshot: Snapshot = { at: this.#o.clock.now(), zones, sizes, familyZones };
    this.#snapshot = snapshot;
    return snapshot;
  }

  async #regionZones(project: string, signal?: AbortSignal): Promise<string[]> {
    const all = await this.#api.listAll<ListZonesRequest, GceZone>(
      'zones.list',
      'listing zones',
      (r, o) => this.#api.zones.list(r, o),
      { project },
      signal,
    );
    const zones = all
      .filter(
        (z) =>
          z.name &&
          String(z.status) === 'UP' &&
          (z.region ?? '').endsWith(`/regions/${this.#o.region}`),
      )
      .map((z) => z.name!)
      .sort();
    if (zones.length === 0)
      throw new ValidationError(
        `region ${this.#o.region} has no zone that is UP in project ${project}`,
        {
          provider: this.#o.provider,
          issues: [{ path: 'region', message: 'no zones' }],
        },
      );
    return zones;
  }
}
