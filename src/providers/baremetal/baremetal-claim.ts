/**
 * Choosing nodes for a request: which resource class and traits it asks for, which
 * free nodes fit, and what to say when too few are free.
 */
import {
  fits,
  formatResources,
  InsufficientCapacity,
  parse,
  rankSizes,
  selectSize,
  ValidationError,
  type Arch,
  type MachineSpec,
  type Size,
  type SizeChoice,
} from '../../core/index.js';
import type { IronicNode } from '../../clients/openstack/ironic-types.js';
import { TraitSchema } from './baremetal-config.js';
import {
  hasTraits,
  isFree,
  nodeArch,
  nodeResources,
  parseSizeName,
  resourceClassOf,
  unofferedNodes,
} from './baremetal-mapper.js';

/** What sizing reads of the inventory: the sizes offered and the nodes behind them. */
export interface Inventory {
  readonly nodes: readonly IronicNode[];
  readonly sizes: readonly Size[];
  readonly requiredTraits: readonly string[];
  readonly defaultResourceClass: string;
  readonly provider: string;
}

/** What a request needs of a node. */
export interface NodeRequirement {
  /** The size name machines report (`bm-small`, `bm-gpu+CUSTOM_A100`). */
  readonly size: string;
  readonly resourceClass: string;
  /** Requested traits plus the provider's required ones. */
  readonly traits: readonly string[];
  readonly spec: Pick<MachineSpec, 'resources' | 'arch'>;
}

/** Free nodes that meet `req`. */
export function candidates(
  nodes: readonly IronicNode[],
  req: NodeRequirement,
  defaultResourceClass: string,
): IronicNode[] {
  return nodes.filter(
    (n) =>
      isFree(n) &&
      resourceClassOf(n, defaultResourceClass) === req.resourceClass &&
      hasTraits(n, req.traits) &&
      (req.spec.resources === undefined || fits(req.spec.resources, nodeResources(n))) &&
      (req.spec.arch === undefined || (nodeArch(n) ?? 'x86_64') === req.spec.arch),
  );
}

/** "bm-small: 3 free, bm-large: 0 free" — what was free, for capacity errors. */
export function freeSummary(sizes: readonly Size[]): string {
  return sizes.length === 0
    ? 'no sizes'
    : sizes.map((s) => `${s.name}: ${s.available ?? 0} free`).join(', ');
}

/**
 * The size a create of `choice` would claim, by the catalog alone (free nodes are not
 * counted): the named resource class, or the best-ranked size that fits.
 *
 * @throws ValidationError for an unknown size, a malformed trait, or resources no size fits.
 */
export function chooseCatalogSize(choice: SizeChoice, inventory: Inventory): Size {
  const { sizes } = inventory;
  if (choice.size !== undefined) {
    const { resourceClass } = namedSize(choice.size, inventory);
    return sizes.find((s) => s.name === resourceClass)!;
  }
  const req = { resources: choice.resources!, arch: choice.arch };
  // No size could ever fit: core's selectSize throws, naming the nearest ones.
  return rankSizes(sizes, req)[0] ?? selectSize(sizes, req);
}

/** A size name's resource class and traits, checked against the catalog. */
function namedSize(
  name: string,
  inventory: Inventory,
): { resourceClass: string; traits: string[] } {
  const { sizes, provider } = inventory;
  const { resourceClass, traits } = parseSizeName(name);
  traits.forEach((t, i) => parse(TraitSchema, t, `trait ${i + 1} of size "${name}"`, 'spec.size'));
  if (sizes.some((s) => s.name === resourceClass)) return { resourceClass, traits };
  const offered = `sizes (resource classes) in service are ${sizes.map((s) => s.name).join(', ') || 'none'}`;
  // A class whose every node is out of service is known to Ironic: say why, not "unknown".
  const why = unofferedNodes(inventory.nodes, resourceClass, inventory);
  if (why.length > 0)
    throw new ValidationError(
      `size "${resourceClass}" has no node in service (${why.slice(0, 3).join('; ')}${why.length > 3 ? `; ${why.length - 3} more` : ''}); ${offered}`,
      {
        provider,
        issues: [{ path: 'spec.size', message: 'no node of this resource class is in service' }],
      },
    );
  throw new ValidationError(`unknown size "${resourceClass}"; ${offered}`, {
    provider,
    issues: [{ path: 'spec.size', message: 'unknown resource class' }],
  });
}

/**
 * The requirement for `count` more machines of `spec`: an explicit size (a resource
 * class, `+`-joined traits after it), or the best-fitting size with enough free nodes.
 *
 * @throws ValidationError for an unknown size, a malformed trait, or resources no size fits.
 * @throws InsufficientCapacity when sizes fit but too few nodes are free, naming what was free.
 */
export function chooseRequirement(
  spec: MachineSpec,
  count: number,
  context: Inventory,
): NodeRequirement {
  const { sizes, provider } = context;
  const arch: Arch | undefined = spec.arch;
  if (spec.size !== undefined) {
    const { resourceClass, traits } = namedSize(spec.size, context);
    const req = {
      size: spec.size,
      resourceClass,
      traits: [...new Set([...traits, ...context.requiredTraits])],
      spec,
    };
    const free = candidates(context.nodes, req, context.defaultResourceClass).length;
    if (free < count)
      throw new InsufficientCapacity(
        `${count} × ${spec.size} asked, ${free} free with those traits (${freeSummary(sizes)})`,
        {
          provider,
          details: {
            asked: count,
            free,
            sizes: sizes.map((s) => ({ name: s.name, available: s.available ?? 0 })),
          },
        },
      );
    return req;
  }
  const resources = spec.resources!;
  const ranked = rankSizes(sizes, { resources, arch });
  // No size could ever fit: let core name the nearest ones.
  if (ranked.length === 0) selectSize(sizes, { resources, arch });
  for (const size of ranked) {
    const req = {
      size: size.name,
      resourceClass: size.name,
      traits: [...context.requiredTraits],
      spec,
    };
    if (candidates(context.nodes, req, context.defaultResourceClass).length >= count) return req;
  }
  throw new InsufficientCapacity(
    `${count} machine(s) of ${formatResources(resources)} asked; too few free nodes fit (${freeSummary(ranked)})`,
    {
      provider,
      details: {
        asked: count,
        fitting: ranked.map((s) => ({ name: s.name, available: s.available ?? 0 })),
      },
    },
  );
}
