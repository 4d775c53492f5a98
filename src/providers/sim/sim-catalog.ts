/**
 * The simulated cloud's size catalog.
 *
 * Source: modelled on AWS EC2 on-demand list prices for us-east-1 (Linux) of the
 * m6i (general purpose, 1 vCPU : 4 GiB), c6i (compute, 1 : 2), r6i (memory, 1 : 8) and
 * g5 (NVIDIA A10G GPU) families as published on the EC2 pricing page in 2024; spot
 * prices are set at the long-run average discounts AWS's Spot Instance Advisor showed
 * for those families (about 60–70 % off). Sizes are renamed (`std-2x8`, …) because they
 * are a model, not AWS's product. Hand-written from that source; no script makes it.
 */
import type { SizeInput } from '../../core/index.js';

interface FamilyRow {
  family: string;
  /** GiB per vCPU. */
  ratio: number;
  /** USD per vCPU-hour on demand (m6i.large $0.096 for 2 vCPU → 0.048). */
  perCpu: number;
  /** Fraction of on-demand a spot hour costs. */
  spot: number;
  cpus: number[];
}

const FAMILIES: FamilyRow[] = [
  { family: 'std', ratio: 4, perCpu: 0.048, spot: 0.36, cpus: [2, 4, 8, 16, 32, 48, 64, 96] },
  { family: 'cpu', ratio: 2, perCpu: 0.0425, spot: 0.38, cpus: [2, 4, 8, 16, 32, 48, 64, 96] },
  { family: 'mem', ratio: 8, perCpu: 0.063, spot: 0.33, cpus: [2, 4, 8, 16, 32, 48, 64] },
];

/** g5-like GPU sizes: [vCPU, GiB, GPUs, on-demand $/h]. */
const GPU_ROWS: [number, number, number, number][] = [
  [4, 16, 1, 1.006],
  [8, 32, 1, 1.212],
  [16, 64, 1, 1.624],
  [48, 192, 4, 8.144],
  [192, 768, 8, 16.288],
];

const round4 = (n: number): number => Math.round(n * 10_000) / 10_000;

/** The catalog for a region with these zones; GPU sizes only in the first two zones, as GPU capacity is scarce. */
export function simCatalog(zones: readonly string[]): SizeInput[] {
  const sizes: SizeInput[] = [];
  for (const f of FAMILIES) {
    for (const cpus of f.cpus) {
      const price = round4(cpus * f.perCpu);
      sizes.push({
        name: `${f.family}-${cpus}x${cpus * f.ratio}`,
        provider: 'sim',
        resources: { cpus, memoryMiB: cpus * f.ratio * 1024, gpus: 0, diskGiB: 0 },
        arch: 'x86_64',
        pricePerHour: price,
        spotPricePerHour: round4(price * f.spot),
        zones: [...zones],
        spot: true,
      });
    }
  }
  for (const [cpus, gib, gpus, price] of GPU_ROWS) {
    sizes.push({
      name: `gpu-${cpus}x${gib}-${gpus}g`,
      provider: 'sim',
      resources: { cpus, memoryMiB: gib * 1024, gpus, diskGiB: 0 },
      arch: 'x86_64',
      pricePerHour: price,
      spotPricePerHour: round4(price * 0.4),
      zones: zones.slice(0, 2),
      spot: true,
    });
  }
  return sizes;
}

/** Images the simulated cloud offers, one per alias kumo knows, with stable ids. */
export const SIM_IMAGES: readonly { id: string; alias: string; os: string; version: string }[] = [
  { id: 'img-ubuntu-2004', alias: 'ubuntu-20.04', os: 'ubuntu', version: '20.04' },
  { id: 'img-ubuntu-2204', alias: 'ubuntu-22.04', os: 'ubuntu', version: '22.04' },
  { id: 'img-ubuntu-2404', alias: 'ubuntu-24.04', os: 'ubuntu', version: '24.04' },
  { id: 'img-debian-11', alias: 'debian-11', os: 'debian', version: '11' },
  { id: 'img-debian-12', alias: 'debian-12', os: 'debian', version: '12' },
  { id: 'img-rocky-9', alias: 'rocky-9', os: 'rocky', version: '9' },
  { id: 'img-al2023', alias: 'amazon-linux-2023', os: 'amazon-linux', version: '2023' },
  { id: 'img-cirros-06', alias: 'cirros-0.6', os: 'cirros', version: '0.6' },
];
