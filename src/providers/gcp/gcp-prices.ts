/**
 * Bundled Compute Engine list prices, USD per hour, for ranking sizes (not billing).
 *
 * Source: https://cloud.google.com/compute/vm-instance-pricing and
 * https://cloud.google.com/spot-vms/pricing — region us-central1 (Iowa), on-demand
 * and Spot list prices as published in June 2024, transcribed by hand (no script);
 * the per-vCPU and per-GiB rates reproduce the listed predefined prices (e.g.
 * e2-standard-2 = 2 × 0.021811 + 8 × 0.002923 = 0.067006). Other regions cost up to
 * ~30 % more, uniformly across families, so the ranking kumo needs still holds.
 * Spot prices move up to once a month; treat them as estimates. Committed-use and
 * sustained-use discounts are not applied.
 */

/** Per-vCPU-hour and per-GiB-hour rates of one machine family. */
export interface FamilyRates {
  readonly vcpu: number;
  readonly memGiB: number;
  readonly spotVcpu?: number;
  readonly spotMemGiB?: number;
}

/** Rates of predefined machine types by family (the part of the name before the first `-`). */
export const PREDEFINED_RATES: Readonly<Record<string, FamilyRates>> = {
  e2: { vcpu: 0.021811, memGiB: 0.002923, spotVcpu: 0.006543, spotMemGiB: 0.000877 },
  n1: { vcpu: 0.031611, memGiB: 0.004237, spotVcpu: 0.006655, spotMemGiB: 0.000892 },
  n2: { vcpu: 0.031611, memGiB: 0.004237, spotVcpu: 0.00765, spotMemGiB: 0.001025 },
  n2d: { vcpu: 0.027502, memGiB: 0.003686, spotVcpu: 0.006655, spotMemGiB: 0.000892 },
  t2d: { vcpu: 0.027502, memGiB: 0.003686 },
  c2: { vcpu: 0.03398, memGiB: 0.00455 },
  c2d: { vcpu: 0.029563, memGiB: 0.003959 },
};

/** Rates of custom machine types, which list about 5 % above predefined ones. */
export const CUSTOM_RATES: Readonly<Record<string, FamilyRates>> = {
  e2: { vcpu: 0.02289, memGiB: 0.003067 },
  n1: { vcpu: 0.033174, memGiB: 0.004446 },
  n2: { vcpu: 0.033191, memGiB: 0.004449 },
  n2d: { vcpu: 0.028877, memGiB: 0.00387 },
};

/**
 * Shared-core types are billed as a fraction of a vCPU (e2-micro: 0.25) at the family
 * rate; f1 and g1 have flat prices. `cpus` is the sustained share kumo schedules on.
 */
export const SHARED_CORE: Readonly<
  Record<string, { readonly cpus: number; readonly flat?: number }>
> = {
  'e2-micro': { cpus: 0.25 },
  'e2-small': { cpus: 0.5 },
  'e2-medium': { cpus: 1 },
  'f1-micro': { cpus: 0.2, flat: 0.0076 },
  'g1-small': { cpus: 0.5, flat: 0.0257 },
};

/** Types whose price includes built-in GPUs (accelerator-optimized families). */
export const FLAT_PRICES: Readonly<Record<string, number>> = {
  'a2-highgpu-1g': 3.673385,
  'g2-standard-4': 0.706832,
  'g2-standard-8': 0.853772,
};

/** Per-GPU-hour prices of accelerators attached to N1 machines. */
export const GPU_RATES: Readonly<Record<string, number>> = {
  'nvidia-tesla-t4': 0.35,
  'nvidia-tesla-p4': 0.6,
  'nvidia-tesla-p100': 1.46,
  'nvidia-tesla-v100': 2.48,
};

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

export interface Price {
  readonly onDemand?: number;
  readonly spot?: number;
}

function fromRates(
  rates: FamilyRates | undefined,
  cpus: number,
  memMiB: number,
  customSpotFrom?: FamilyRates,
): Price {
  if (rates === undefined) return {};
  const gib = memMiB / 1024;
  const onDemand = round6(cpus * rates.vcpu + gib * rates.memGiB);
  let spot: number | undefined;
  if (rates.spotVcpu !== undefined && rates.spotMemGiB !== undefined)
    spot = round6(cpus * rates.spotVcpu + gib * rates.spotMemGiB);
  else if (customSpotFrom?.spotVcpu !== undefined && customSpotFrom.spotMemGiB !== undefined)
    // NOTE: Spot custom types are discounted like their predefined family; the page lists
    // no separate custom Spot rate for every family, so the family's discount is applied.
    spot = round6(
      cpus * rates.vcpu * (customSpotFrom.spotVcpu / customSpotFrom.vcpu) +
        gib * rates.memGiB * (customSpotFrom.spotMemGiB / customSpotFrom.memGiB),
    );
  return { onDemand, ...(spot === undefined ? {} : { spot }) };
}

/** The family of a machine type name: `e2-standard-4` → `e2`, `custom-2-4096` → `n1`. */
export function familyOf(machineType: string): string {
  if (machineType.startsWith('custom-')) return 'n1';
  return machineType.split('-')[0] ?? machineType;
}

/** The list price of a predefined machine type; empty when the table does not know its family. */
export function predefinedPrice(name: string, guestCpus: number, memoryMiB: number): Price {
  const flat = FLAT_PRICES[name];
  if (flat !== undefined) return { onDemand: flat };
  const shared = SHARED_CORE[name];
  if (shared?.flat !== undefined) return { onDemand: shared.flat };
  const family = familyOf(name);
  return fromRates(PREDEFINED_RATES[family], shared?.cpus ?? guestCpus, memoryMiB);
}

/** The list price of a custom machine type of `family` (`e2`, `n1`, `n2`, `n2d`). */
export function customPrice(family: string, cpus: number, memoryMiB: number): Price {
  return fromRates(CUSTOM_RATES[family], cpus, memoryMiB, PREDEFINED_RATES[family]);
}

/** The price of `count` attached GPUs of `acceleratorType`, when known. */
export function gpuPrice(acceleratorType: string, count: number): number | undefined {
  const rate = GPU_RATES[acceleratorType];
  return rate === undefined ? undefined : round6(rate * count);
}
