import { z } from 'zod';
import type { AgentAttributes } from '../agents/agent-schemas.js';
import { toMilliCpus } from '../resources/scalars.js';

const AttributeNameSchema = z.string().min(1, 'name the attribute').max(300);

/**
 * Placement constraints of a task. `attribute` names `hostname`, `provider`,
 * `region`, `zone`, `pool`, `spot`, `pricePerHour`, or a label (`labels.<key>`, or the
 * bare key when it is none of the built-in names).
 *
 * - `equals` / `in` / `notIn`: the agent's attribute value (an agent without the
 *   attribute passes `notIn` and fails the others).
 * - `uniqueHost`: at most one task of the job per hostname.
 * - `maxPerAgent`: at most `max` tasks of the job per agent.
 * - `spread`: keep the job's task counts across the attribute's values (e.g. zones)
 *   within `maxSkew` of the least-used value (Kubernetes' topology spread rule).
 *
 * The counting constraints count the job's live tasks (launched and not ended), as
 * Marathon and Kubernetes do: a finished task frees its place.
 */
export const ConstraintSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('equals'), attribute: AttributeNameSchema, value: z.string() }).strict(),
  z
    .object({
      op: z.literal('in'),
      attribute: AttributeNameSchema,
      values: z.array(z.string()).min(1, 'give at least one value'),
    })
    .strict(),
  z
    .object({
      op: z.literal('notIn'),
      attribute: AttributeNameSchema,
      values: z.array(z.string()).min(1, 'give at least one value'),
    })
    .strict(),
  z.object({ op: z.literal('uniqueHost') }).strict(),
  z
    .object({
      op: z.literal('maxPerAgent'),
      max: z.number().int('max is a whole number').positive('max must be at least 1'),
    })
    .strict(),
  z
    .object({
      op: z.literal('spread'),
      attribute: AttributeNameSchema,
      maxSkew: z
        .number()
        .int('maxSkew is a whole number')
        .positive('maxSkew must be at least 1')
        .default(1),
    })
    .strict(),
]);
export type Constraint = z.output<typeof ConstraintSchema>;
export type ConstraintInput = z.input<typeof ConstraintSchema>;

/** What a task needs, for placement: resources (with a port count) and constraints. */
export interface PlacementRequest {
  readonly resources: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus?: number;
    readonly diskGiB?: number;
    /** How many ports the task needs. */
    readonly ports?: number;
  };
  readonly constraints?: readonly Constraint[];
}

/** What placement sees of an agent (a real one, or one a burst policy imagines). */
export interface AgentView {
  readonly id: string;
  readonly hostname: string;
  readonly attributes: Readonly<AgentAttributes>;
  /** What is free for this request's role. */
  readonly available: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly diskGiB: number;
    readonly ports: number;
  };
}

/**
 * Where the tasks of the same job already are, for the constraints that count
 * (`uniqueHost`, `maxPerAgent`, `spread`). {@link EMPTY_PLACEMENT} means "none yet".
 */
export interface PlacementContext {
  tasksOnAgent(agentId: string): number;
  tasksOnHost(hostname: string): number;
  tasksWith(attribute: string, value: string): number;
  /** Every value the attribute takes across the cluster (the spread's domain). */
  attributeValues(attribute: string): Iterable<string>;
}

/** No tasks placed yet, no other attribute values known. */
export const EMPTY_PLACEMENT: PlacementContext = Object.freeze({
  tasksOnAgent: () => 0,
  tasksOnHost: () => 0,
  tasksWith: () => 0,
  attributeValues: () => [],
});

const BUILT_IN = new Set([
  'hostname',
  'provider',
  'region',
  'zone',
  'pool',
  'spot',
  'pricePerHour',
]);

/** The value of `attribute` on an agent, as a string, or undefined when it has none. */
export function attributeValue(
  attributes: Readonly<AgentAttributes>,
  hostname: string,
  attribute: string,
): string | undefined {
  switch (attribute) {
    case 'hostname':
      return hostname;
    case 'provider':
    case 'region':
    case 'zone':
    case 'pool':
      return attributes[attribute];
    case 'spot':
      return attributes.spot === undefined ? undefined : String(attributes.spot);
    case 'pricePerHour':
      return attributes.pricePerHour === undefined ? undefined : String(attributes.pricePerHour);
    default: {
      const labels = attributes.labels;
      if (attribute.startsWith('labels.')) return labels[attribute.slice(7)];
      return BUILT_IN.has(attribute) ? undefined : labels[attribute];
    }
  }
}

/** True when the agent's attributes satisfy every attribute constraint (`equals`, `in`, `notIn`). */
export function matchesAttributes(constraints: readonly Constraint[], agent: AgentView): boolean {
  for (const c of constraints) {
    if (c.op === 'equals') {
      if (attributeValue(agent.attributes, agent.hostname, c.attribute) !== c.value) return false;
    } else if (c.op === 'in') {
      const v = attributeValue(agent.attributes, agent.hostname, c.attribute);
      if (v === undefined || !c.values.includes(v)) return false;
    } else if (c.op === 'notIn') {
      const v = attributeValue(agent.attributes, agent.hostname, c.attribute);
      if (v !== undefined && c.values.includes(v)) return false;
    } else if (c.op === 'spread') {
      if (attributeValue(agent.attributes, agent.hostname, c.attribute) === undefined) return false;
    }
  }
  return true;
}

/** How many copies of the request's resources fit in the agent's available resources. */
export function resourceFit(req: PlacementRequest, agent: AgentView): number {
  const r = req.resources;
  const a = agent.available;
  let n = Infinity;
  const cpus = toMilliCpus(r.cpus);
  if (cpus > 0) n = Math.min(n, Math.floor(toMilliCpus(a.cpus) / cpus));
  if (r.memoryMiB > 0) n = Math.min(n, Math.floor(a.memoryMiB / r.memoryMiB));
  if ((r.gpus ?? 0) > 0) n = Math.min(n, Math.floor(a.gpus / r.gpus!));
  if ((r.diskGiB ?? 0) > 0) n = Math.min(n, Math.floor(a.diskGiB / r.diskGiB!));
  if ((r.ports ?? 0) > 0) n = Math.min(n, Math.floor(a.ports / r.ports!));
  return Math.max(0, n);
}

/**
 * How many more tasks like `req` may go on `agent` now (at most `limit`): resources,
 * attribute constraints and the counting constraints together. This is the jobs
 * framework's placement rule; burst policies call it (through {@link canPlace}) on
 * imagined agents, so both always agree.
 */
export function maxPlaceable(
  req: PlacementRequest,
  agent: AgentView,
  context: PlacementContext = EMPTY_PLACEMENT,
  limit = Infinity,
): number {
  const constraints = req.constraints ?? [];
  if (constraints.length > 0 && !matchesAttributes(constraints, agent)) return 0;
  let k = Math.min(limit, resourceFit(req, agent));
  for (const c of constraints) {
    if (k <= 0) return 0;
    if (c.op === 'uniqueHost') {
      k = context.tasksOnHost(agent.hostname) > 0 ? 0 : Math.min(k, 1);
    } else if (c.op === 'maxPerAgent') {
      k = Math.min(k, c.max - context.tasksOnAgent(agent.id));
    } else if (c.op === 'spread') {
      const mine = attributeValue(agent.attributes, agent.hostname, c.attribute)!;
      const here = context.tasksWith(c.attribute, mine);
      let othersMin = Infinity;
      for (const v of context.attributeValues(c.attribute))
        if (v !== mine) othersMin = Math.min(othersMin, context.tasksWith(c.attribute, v));
      // Placing k here leaves the skew (this value's count minus the smallest count) within maxSkew.
      if (othersMin !== Infinity) k = Math.min(k, othersMin + c.maxSkew - here);
    }
  }
  return Math.max(0, k);
}

/** Why a task cannot go on an agent, or undefined when it can. */
export function explainPlacement(
  req: PlacementRequest,
  agent: AgentView,
  context: PlacementContext = EMPTY_PLACEMENT,
): string | undefined {
  if (maxPlaceable(req, agent, context, 1) >= 1) return undefined;
  const constraints = req.constraints ?? [];
  for (const c of constraints)
    if (!matchesAttributes([c], agent))
      return c.op === 'spread'
        ? `agent ${agent.id} has no ${c.attribute} attribute to spread over`
        : `agent ${agent.id} fails ${c.op}${'attribute' in c ? ` on ${c.attribute}` : ''}`;
  if (resourceFit(req, agent) < 1) return `agent ${agent.id} lacks the resources`;
  for (const c of constraints)
    if (maxPlaceable({ resources: req.resources, constraints: [c] }, agent, context, 1) < 1)
      return `agent ${agent.id} would break ${c.op}${'attribute' in c ? ` on ${c.attribute}` : ''}`;
  return `agent ${agent.id} cannot take the task`;
}

/**
 * Whether one task like `req` may be placed on `agent` given where its job's tasks
 * already run. Pure: the jobs framework and the burst controller share it.
 *
 * @example
 * ```ts
 * canPlace(
 *   { resources: { cpus: 2, memoryMiB: 4096 }, constraints: [{ op: 'equals', attribute: 'zone', value: 'a' }] },
 *   { id: 'm1', hostname: 'm1', attributes: { zone: 'a', labels: {} },
 *     available: { cpus: 8, memoryMiB: 32768, gpus: 0, diskGiB: 100, ports: 1000 } },
 * ); // true
 * ```
 */
export function canPlace(
  req: PlacementRequest,
  agent: AgentView,
  context: PlacementContext = EMPTY_PLACEMENT,
): boolean {
  return maxPlaceable(req, agent, context, 1) >= 1;
}
