/**
 * Candidates: the kinds of machine a burst policy may buy — each target's allowed sizes
 * (or shapes) in each allowed zone, on demand and (where allowed) spot, with their
 * price and what placement constraints would see of them.
 */
import {
  effectivePrice,
  selectSize,
  TAG_POOL,
  type MachineSpec,
  type Resources,
  type Size,
} from '../../core/index.js';
import type { AgentAttributes } from '../../scheduler/index.js';
import { adHocPool } from '../ad-hoc-pool.js';
import type { BurstPolicy, BurstTarget } from './burst-schema.js';
import type { PackCandidate } from './packing.js';

/** A machine kind a burst target can make. */
export interface BurstCandidate extends PackCandidate {
  readonly target: string;
  readonly provider: string;
  readonly region: string;
  readonly size: string;
  /** Undefined when the provider names no zones for the size (it picks one). */
  readonly zone: string | undefined;
  readonly spot: boolean;
  /**
   * The candidate without its zone (`target/size[*shape]/spot|on-demand`): candidates
   * that share it are the same machine in other zones.
   */
  readonly offering: string;
  readonly resources: Resources;
  /** What is sent to the provider. */
  readonly spec: MachineSpec;
}

/** What a provider offers, as the candidates need it. */
export interface ProviderCatalog {
  readonly region: string;
  readonly sizes: readonly Size[];
}

/** Ports each agent offers as the datacenter registers them (`[[31000, 32000]]`). */
export const DEFAULT_PORTS_PER_AGENT = 1001;

/** The ad-hoc group (pool `adhoc.<group>`) a target's machines live in. */
export function burstGroup(target: string): string {
  return `burst-${target}`;
}

/** The pool name of a target's machines: `adhoc.burst-<target>`. */
export function burstPool(target: string): string {
  return adHocPool(burstGroup(target));
}

/** The target a burst pool belongs to, or undefined when the pool is not a burst pool. */
export function targetOfPool(pool: string): string | undefined {
  const prefix = adHocPool('burst-x').slice(0, -1);
  return pool.startsWith(prefix) ? pool.slice(prefix.length) : undefined;
}

export interface CandidateOptions {
  /** Labels every machine of the datacenter carries (the spec's `labels`). */
  readonly dcLabels?: Readonly<Record<string, string>>;
  /** Ports each agent offers (what placement counts for tasks that want ports). */
  readonly portsPerAgent: number;
  /** Provider rank: lower is preferred. */
  readonly ranks: ReadonlyMap<string, number>;
}

/** Why a target yields no candidate, for a warning the user can act on. */
export interface CandidateProblem {
  readonly target: string;
  readonly message: string;
  /** The policy field at fault, when it is one (`targets.0.sizes.2`), for a located error. */
  readonly path?: string;
}

/**
 * Every candidate of the policy, given each target provider's catalog.
 *
 * @example
 * ```ts
 * const { candidates } = buildCandidates(policy, new Map([['cloud', { region: 'sim-1', sizes: await cloud.listSizes() }]]),
 *   { portsPerAgent: 1001, ranks: providerRanks(policy) });
 * ```
 */
export function buildCandidates(
  policy: BurstPolicy,
  catalogs: ReadonlyMap<string, ProviderCatalog>,
  options: CandidateOptions,
): { candidates: BurstCandidate[]; problems: CandidateProblem[] } {
  const candidates: BurstCandidate[] = [];
  const problems: CandidateProblem[] = [];
  for (const [t, target] of policy.targets.entries()) {
    const catalog = catalogs.get(target.provider);
    if (catalog === undefined) {
      problems.push({ target: target.name, message: `provider ${target.provider} has no catalog` });
      continue;
    }
    const made = targetCandidates(target, `targets.${t}`, catalog, options, problems);
    if (made.length === 0 && target.maxMachines > 0)
      problems.push({
        target: target.name,
        message: `no size of ${target.provider} matches the target (sizes, shapes, zones, prices)`,
      });
    candidates.push(...made);
  }
  return { candidates, problems };
}

function targetCandidates(
  target: BurstTarget,
  at: string,
  catalog: ProviderCatalog,
  options: CandidateOptions,
  problems: CandidateProblem[],
): BurstCandidate[] {
  const out: BurstCandidate[] = [];
  const rank = options.ranks.get(target.provider) ?? options.ranks.size;
  const labels = { ...options.dcLabels, ...target.machine.labels };
  const pool = burstPool(target.name);
  const template = target.machine;
  const emit = (size: Size, zone: string | undefined, spot: boolean, shape?: Resources): void => {
    const price = effectivePrice(size, spot);
    if (price === undefined) return;
    const resources = shape ?? size.resources;
    const spec: MachineSpec = {
      image: template.image,
      ...(template.arch === undefined ? {} : { arch: template.arch }),
      ...(template.network === undefined ? {} : { network: template.network }),
      ...(template.subnet === undefined ? {} : { subnet: template.subnet }),
      ...(template.userData === undefined ? {} : { userData: template.userData }),
      sshKeys: template.sshKeys,
      labels,
      ...(shape === undefined ? { size: size.name } : { resources: shape }),
      ...(zone === undefined ? {} : { zone }),
      spot,
    };
    const attributes: AgentAttributes = {
      provider: target.provider,
      region: catalog.region,
      ...(zone === undefined ? {} : { zone }),
      pool,
      spot,
      pricePerHour: price,
      // As the agent will show it: the machine's labels with its pool tag.
      labels: { ...labels, [TAG_POOL]: pool },
    };
    // A shape names its resources: two shapes may come out as one size.
    const kind = `${target.name}/${size.name}${shape === undefined ? '' : `*${resources.cpus}x${resources.memoryMiB}x${resources.gpus}x${resources.diskGiB}`}`;
    const market = spot ? 'spot' : 'on-demand';
    out.push({
      id: `${kind}/${zone ?? '-'}/${market}`,
      offering: `${kind}/${market}`,
      pricePerHour: price,
      capacity: {
        cpus: resources.cpus,
        memoryMiB: resources.memoryMiB,
        gpus: resources.gpus,
        diskGiB: resources.diskGiB,
        ports: options.portsPerAgent,
      },
      attributes,
      group: target.name,
      rank,
      target: target.name,
      provider: target.provider,
      region: catalog.region,
      size: size.name,
      zone,
      spot,
      resources,
      spec,
    });
  };
  const zonesOf = (size: Size): (string | undefined)[] => {
    const offered = size.zones;
    if (target.zones !== undefined)
      return target.zones.filter((z) => offered.length === 0 || offered.includes(z));
    return offered.length > 0 ? [...offered] : [undefined];
  };
  const spots = (size: Size): boolean[] => (target.spot && size.spot ? [true, false] : [false]);

  if (target.shapes !== undefined) {
    for (const shape of target.shapes)
      for (const spot of target.spot ? [true, false] : [false])
        for (const zone of target.zones ?? [undefined]) {
          try {
            const size = selectSize(catalog.sizes, { resources: shape, zone, spot });
            emit(size, zone ?? (size.zones.length === 1 ? size.zones[0] : undefined), spot, shape);
          } catch (err) {
            problems.push({
              target: target.name,
              message: `shape ${shape.cpus} vCPU / ${shape.memoryMiB} MiB${zone ? ` in ${zone}` : ''}${spot ? ' as spot' : ''}: ${(err as Error).message}`,
            });
          }
        }
    return out;
  }
  const allowed = target.sizes;
  allowed?.forEach((name, k) => {
    if (!catalog.sizes.some((s) => s.name === name))
      problems.push({
        target: target.name,
        message: `size "${name}" is not offered by ${target.provider}`,
        path: `${at}.sizes.${k}`,
      });
  });
  for (const size of catalog.sizes) {
    if (allowed !== undefined && !allowed.includes(size.name)) continue;
    if (size.available !== undefined && size.available <= 0) continue;
    for (const zone of zonesOf(size)) for (const spot of spots(size)) emit(size, zone, spot);
  }
  return out;
}
