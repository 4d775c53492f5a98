/**
 * What of the waiting demand the machines already there (or on their way) can take:
 * placement simulated on a copy of the scheduler's free resources, with the same rule
 * the jobs framework places by (`maxPlaceable`). Only what is left over is worth
 * buying machines for. (Karpenter does the same: simulate on a copy, act on the rest.)
 */
import {
  attributeValue,
  maxPlaceable,
  type AgentAttributes,
  type AgentView,
  type DemandItem,
  type PlacementContext,
  type Scheduler,
} from '../../scheduler/index.js';

/** A machine not yet an agent (booting), placed onto as if it were free. */
export interface IncomingMachine {
  readonly id: string;
  readonly attributes: Readonly<AgentAttributes>;
  readonly capacity: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly diskGiB: number;
    readonly ports: number;
  };
}

/** A demand item and how many of its tasks nothing present or incoming can take. */
export interface Residual {
  readonly item: DemandItem;
  readonly left: number;
}

/** What is left over, and which of the `reusable` machines took some of it. */
export interface CurrentFit {
  readonly residual: Residual[];
  /** Ids of reusable machines placed onto: worth taking back into service. */
  readonly reused: ReadonlySet<string>;
}

interface MutableView extends AgentView {
  readonly available: {
    cpus: number;
    memoryMiB: number;
    gpus: number;
    diskGiB: number;
    ports: number;
  };
}

/**
 * Places `demand` (priority first, then longest waiting, as the jobs framework does)
 * on copies of the active agents' free resources (outstanding offers count as free:
 * they are not used yet), then on `incoming` machines, then on `reusable` ones (burst
 * machines being drained, which could be taken back); returns what is left per item.
 */
export function unplacedDemand(
  scheduler: Scheduler,
  demand: readonly DemandItem[],
  incoming: readonly IncomingMachine[],
  reusable: readonly string[] = [],
): CurrentFit {
  const reused = new Set<string>();
  if (demand.length === 0) return { residual: [], reused };
  const reusableIds = new Set(reusable.filter((id) => scheduler.agent(id) !== undefined));
  const agents = scheduler.agents().filter((a) => a.status === 'active');
  const offered = new Map<
    string,
    { cpus: number; memoryMiB: number; gpus: number; diskGiB: number; ports: number }
  >();
  if (agents.some((a) => a.offers > 0))
    for (const o of scheduler.snapshot().offers) {
      const sum = offered.get(o.agentId) ?? {
        cpus: 0,
        memoryMiB: 0,
        gpus: 0,
        diskGiB: 0,
        ports: 0,
      };
      sum.cpus += o.resources.cpus;
      sum.memoryMiB += o.resources.memoryMiB;
      sum.gpus += o.resources.gpus;
      sum.diskGiB += o.resources.diskGiB;
      sum.ports += o.ports.reduce((n, [b, e]) => n + e - b + 1, 0);
      offered.set(o.agentId, sum);
    }
  const viewsByRole = new Map<string, MutableView[]>();
  const viewsFor = (role: string): MutableView[] => {
    let views = viewsByRole.get(role);
    if (views !== undefined) return views;
    views = agents.map((a) => {
      const v = scheduler.agentView(a.id, role);
      const extra = offered.get(a.id);
      return {
        id: v.id,
        hostname: v.hostname,
        attributes: v.attributes,
        available: {
          cpus: v.available.cpus + (extra?.cpus ?? 0),
          memoryMiB: v.available.memoryMiB + (extra?.memoryMiB ?? 0),
          gpus: v.available.gpus + (extra?.gpus ?? 0),
          diskGiB: v.available.diskGiB + (extra?.diskGiB ?? 0),
          ports: v.available.ports + (extra?.ports ?? 0),
        },
      };
    });
    // NOTE: incoming machines are shared by every role: each role gets the whole machine
    // in its own copy, which overstates them only when several roles wait at once.
    for (const m of incoming)
      views.push({
        id: m.id,
        hostname: m.id,
        attributes: m.attributes,
        available: { ...m.capacity },
      });
    for (const id of reusableIds) {
      const v = scheduler.agentView(id, role);
      views.push({
        id: v.id,
        hostname: v.hostname,
        attributes: v.attributes,
        available: { ...v.available },
      });
    }
    viewsByRole.set(role, views);
    return views;
  };
  const ordered = [...demand].sort(
    (a, b) =>
      b.priority - a.priority || a.since - b.since || a.key?.localeCompare(b.key ?? '') || 0,
  );
  const out: Residual[] = [];
  const contexts = new Map<string, ReturnType<typeof placedContext>>();
  for (const item of ordered) {
    const views = viewsFor(item.role);
    const request = { resources: item.resources, constraints: item.constraints };
    let context = contexts.get(item.role);
    if (context === undefined) contexts.set(item.role, (context = placedContext(views)));
    let left = item.count;
    for (const view of views) {
      if (left <= 0) break;
      const k = maxPlaceable(request, view, context.of(item), left);
      if (k <= 0) continue;
      const a = view.available;
      a.cpus = Math.round((a.cpus - item.resources.cpus * k) * 1000) / 1000;
      a.memoryMiB -= item.resources.memoryMiB * k;
      a.gpus -= item.resources.gpus * k;
      a.diskGiB -= item.resources.diskGiB * k;
      a.ports -= item.resources.ports * k;
      context.add(item, view, k);
      if (reusableIds.has(view.id)) reused.add(view.id);
      left -= k;
    }
    out.push({ item, left });
  }
  return { residual: out, reused };
}

/**
 * Counts of the tasks this simulation placed, per item, for the counting constraints.
 * Where the item's tasks already run is not known here (demand carries none of it),
 * so a job's earlier tasks are not counted: the result errs towards fitting.
 */
function placedContext(views: readonly MutableView[]): {
  of(item: DemandItem): PlacementContext;
  add(item: DemandItem, view: AgentView, k: number): void;
} {
  const counts = new Map<DemandItem, Map<string, number>>();
  const values = new Map<string, Set<string>>();
  return {
    of(item) {
      const mine = counts.get(item) ?? new Map<string, number>();
      counts.set(item, mine);
      return {
        tasksOnAgent: (id) => mine.get(id) ?? 0,
        tasksOnHost: (host) => mine.get(host) ?? 0,
        tasksWith: (attribute, value) => {
          let n = 0;
          for (const v of views)
            if (attributeValue(v.attributes, v.hostname, attribute) === value)
              n += mine.get(v.id) ?? 0;
          return n;
        },
        attributeValues: (attribute) => {
          let set = values.get(attribute);
          if (set === undefined) {
            set = new Set();
            for (const v of views) {
              const x = attributeValue(v.attributes, v.hostname, attribute);
              if (x !== undefined) set.add(x);
            }
            values.set(attribute, set);
          }
          return set;
        },
      };
    },
    add(item, view, k) {
      const mine = counts.get(item) ?? new Map<string, number>();
      counts.set(item, mine);
      mine.set(view.id, (mine.get(view.id) ?? 0) + k);
    },
  };
}
