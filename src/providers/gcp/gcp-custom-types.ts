/**
 * Custom machine types: Compute Engine makes a VM to measure (`custom-<cpus>-<MiB>`
 * for N1, `e2-custom-…`, `n2-custom-…`, `n2d-custom-…`) within per-family rules on
 * vCPU counts, memory per vCPU and total memory, memory always a multiple of 256 MiB.
 * No other cloud kumo supports can do this; the size chooser offers such a type next
 * to the predefined ones and takes it when it is cheaper.
 *
 * Rules as documented in "Create a VM with a custom machine type"
 * (https://cloud.google.com/compute/docs/instances/creating-instance-with-custom-machine-type),
 * June 2024. Extended memory (`-ext`) is accepted when named explicitly but never proposed.
 */
import { customPrice, type Price } from './gcp-prices.js';

export interface CustomFamilyRule {
  /** `n1`, `e2`, `n2`, `n2d`. */
  readonly family: string;
  /** Name prefix before `-<cpus>-<MiB>`. */
  readonly prefix: string;
  /** Every valid vCPU count, ascending. */
  readonly cpus: readonly number[];
  readonly minMiBPerCpu: number;
  readonly maxMiBPerCpu: number;
  readonly maxTotalMiB: number;
  readonly extendedMemory: boolean;
}

const range = (from: number, to: number, step: number): number[] =>
  Array.from({ length: Math.floor((to - from) / step) + 1 }, (_, i) => from + i * step);
const GIB = 1024;

export const CUSTOM_FAMILIES: readonly CustomFamilyRule[] = [
  // N1: 1 vCPU or an even count up to 96; 0.9–6.5 GB per vCPU.
  {
    family: 'n1',
    prefix: 'custom',
    cpus: [1, ...range(2, 96, 2)],
    minMiBPerCpu: 0.9 * GIB,
    maxMiBPerCpu: 6.5 * GIB,
    maxTotalMiB: 624 * GIB,
    extendedMemory: true,
  },
  // E2: 2–32 vCPUs in steps of 2; 0.5–8 GB per vCPU; at most 128 GB.
  {
    family: 'e2',
    prefix: 'e2-custom',
    cpus: range(2, 32, 2),
    minMiBPerCpu: 0.5 * GIB,
    maxMiBPerCpu: 8 * GIB,
    maxTotalMiB: 128 * GIB,
    extendedMemory: false,
  },
  // N2: steps of 2 up to 32, then steps of 4 up to 128; 0.5–8 GB per vCPU.
  {
    family: 'n2',
    prefix: 'n2-custom',
    cpus: [...range(2, 32, 2), ...range(36, 128, 4)],
    minMiBPerCpu: 0.5 * GIB,
    maxMiBPerCpu: 8 * GIB,
    maxTotalMiB: 864 * GIB,
    extendedMemory: true,
  },
  // N2D: 2, 4, 8, 16, then steps of 16 up to 96; 0.5–8 GB per vCPU.
  {
    family: 'n2d',
    prefix: 'n2d-custom',
    cpus: [2, 4, 8, ...range(16, 96, 16)],
    minMiBPerCpu: 0.5 * GIB,
    maxMiBPerCpu: 8 * GIB,
    maxTotalMiB: 768 * GIB,
    extendedMemory: true,
  },
];

export interface CustomType {
  readonly name: string;
  readonly family: string;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly extended: boolean;
}

const CUSTOM_NAME = /^(custom|e2-custom|n2-custom|n2d-custom)-(\d+)-(\d+)(-ext)?$/;

/** True when `name` has the shape of a custom machine type (valid or not). */
export function isCustomTypeName(name: string): boolean {
  return CUSTOM_NAME.test(name) || /^([a-z0-9]+-)?custom-/.test(name);
}

function ruleFor(prefix: string): CustomFamilyRule | undefined {
  return CUSTOM_FAMILIES.find((r) => r.prefix === prefix);
}

const roundUp = (value: number, step: number): number => Math.ceil(value / step) * step;

/**
 * Checks a custom machine type name against its family's rules.
 * @returns the parsed type, or the reasons it is not valid (each naming the rule).
 */
export function checkCustomType(name: string): { type: CustomType } | { problems: string[] } {
  const m = CUSTOM_NAME.exec(name);
  if (m === null)
    return {
      problems: [
        `"${name}" is not a custom type name; use custom-<cpus>-<MiB>, e2-custom-<cpus>-<MiB>, n2-custom-<cpus>-<MiB> or n2d-custom-<cpus>-<MiB>`,
      ],
    };
  const rule = ruleFor(m[1]!)!;
  const cpus = Number(m[2]);
  const memoryMiB = Number(m[3]);
  const extended = m[4] !== undefined;
  const problems: string[] = [];
  if (!rule.cpus.includes(cpus))
    problems.push(
      `${rule.family.toUpperCase()} custom types take ${describeCpus(rule)} vCPUs, not ${cpus}`,
    );
  if (memoryMiB % 256 !== 0)
    problems.push(
      `memory must be a multiple of 256 MiB (${memoryMiB} is not; ${roundUp(memoryMiB, 256)} is)`,
    );
  if (extended && !rule.extendedMemory)
    problems.push(`${rule.family.toUpperCase()} custom types have no extended memory`);
  if (cpus > 0 && memoryMiB < rule.minMiBPerCpu * cpus)
    problems.push(
      `${rule.family.toUpperCase()} needs at least ${rule.minMiBPerCpu / GIB} GB per vCPU: ${roundUp(rule.minMiBPerCpu * cpus, 256)} MiB for ${cpus} vCPUs`,
    );
  if (cpus > 0 && !extended && memoryMiB > rule.maxMiBPerCpu * cpus)
    problems.push(
      `${rule.family.toUpperCase()} allows at most ${rule.maxMiBPerCpu / GIB} GB per vCPU: ${Math.floor((rule.maxMiBPerCpu * cpus) / 256) * 256} MiB for ${cpus} vCPUs${rule.extendedMemory ? ' (add -ext for extended memory)' : ''}`,
    );
  if (memoryMiB > rule.maxTotalMiB)
    problems.push(
      `${rule.family.toUpperCase()} custom types have at most ${rule.maxTotalMiB} MiB of memory`,
    );
  if (problems.length > 0) return { problems };
  return { type: { name, family: rule.family, cpus, memoryMiB, extended } };
}

function describeCpus(rule: CustomFamilyRule): string {
  const c = rule.cpus;
  if (rule.family === 'n1') return '1 or an even number up to 96';
  if (rule.family === 'e2') return 'an even number from 2 to 32';
  if (rule.family === 'n2') return 'an even number up to 32 or a multiple of 4 up to 128';
  return `one of ${c.join(', ')}`;
}

/**
 * The smallest valid custom type of `rule`'s family that holds `cpus` vCPUs and
 * `memoryMiB`, or undefined when the family cannot (too much memory, too many vCPUs).
 * Memory is rounded up to 256 MiB and raised to the family's minimum per vCPU; vCPUs
 * are raised when the memory needs more vCPUs to stay under the per-vCPU maximum.
 *
 * @example
 * ```ts
 * proposeCustomType(CUSTOM_FAMILIES[1], 3, 5000); // { name: 'e2-custom-4-5120', cpus: 4, memoryMiB: 5120, … }
 * ```
 */
export function proposeCustomType(
  rule: CustomFamilyRule,
  cpus: number,
  memoryMiB: number,
): CustomType | undefined {
  for (const c of rule.cpus) {
    if (c < cpus) continue;
    const mem = Math.max(roundUp(Math.max(memoryMiB, 1), 256), roundUp(rule.minMiBPerCpu * c, 256));
    if (mem > rule.maxMiBPerCpu * c) continue;
    if (mem > rule.maxTotalMiB) return undefined;
    return {
      name: `${rule.prefix}-${c}-${mem}`,
      family: rule.family,
      cpus: c,
      memoryMiB: mem,
      extended: false,
    };
  }
  return undefined;
}

/** The list price of a custom type (extended memory has no bundled price). */
export function customTypePrice(type: CustomType): Price {
  return type.extended ? {} : customPrice(type.family, type.cpus, type.memoryMiB);
}
