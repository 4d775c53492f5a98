import { z } from 'zod';

/**
 * Resources in kumo's one unit system: vCPUs (fractions allowed for scheduling), MiB of
 * memory, whole GPUs and GiB of disk.
 */
export const ResourcesSchema = z
  .object({
    cpus: z.number().positive('cpus must be more than 0').max(1_000_000),
    memoryMiB: z
      .number()
      .int('memoryMiB must be a whole number')
      .nonnegative()
      .max(1 << 30),
    gpus: z.number().int('gpus must be a whole number').nonnegative().max(1024).default(0),
    diskGiB: z
      .number()
      .int('diskGiB must be a whole number')
      .nonnegative()
      .max(1 << 24)
      .default(0),
  })
  .strict();

export type Resources = z.output<typeof ResourcesSchema>;
export type ResourcesInput = z.input<typeof ResourcesSchema>;

export const RESOURCE_NAMES = ['cpus', 'memoryMiB', 'gpus', 'diskGiB'] as const;
export type ResourceName = (typeof RESOURCE_NAMES)[number];

export const ZERO_RESOURCES: Readonly<Resources> = Object.freeze({
  cpus: 0,
  memoryMiB: 0,
  gpus: 0,
  diskGiB: 0,
});

/** `have` covers `want` in every dimension. */
export function fits(want: Readonly<Resources>, have: Readonly<Resources>): boolean {
  return (
    want.cpus <= have.cpus + 1e-9 &&
    want.memoryMiB <= have.memoryMiB &&
    want.gpus <= have.gpus &&
    want.diskGiB <= have.diskGiB
  );
}

export function addResources(a: Readonly<Resources>, b: Readonly<Resources>): Resources {
  return {
    cpus: a.cpus + b.cpus,
    memoryMiB: a.memoryMiB + b.memoryMiB,
    gpus: a.gpus + b.gpus,
    diskGiB: a.diskGiB + b.diskGiB,
  };
}

export function subtractResources(a: Readonly<Resources>, b: Readonly<Resources>): Resources {
  return {
    cpus: a.cpus - b.cpus,
    memoryMiB: a.memoryMiB - b.memoryMiB,
    gpus: a.gpus - b.gpus,
    diskGiB: a.diskGiB - b.diskGiB,
  };
}

export function scaleResources(a: Readonly<Resources>, n: number): Resources {
  return { cpus: a.cpus * n, memoryMiB: a.memoryMiB * n, gpus: a.gpus * n, diskGiB: a.diskGiB * n };
}

/** `4 vCPU, 16384 MiB, 1 GPU, 100 GiB` (zero GPUs and disk left out). */
export function formatResources(r: Readonly<Resources>): string {
  const parts = [`${r.cpus} vCPU`, `${r.memoryMiB} MiB`];
  if (r.gpus > 0) parts.push(`${r.gpus} GPU`);
  if (r.diskGiB > 0) parts.push(`${r.diskGiB} GiB disk`);
  return parts.join(', ');
}
