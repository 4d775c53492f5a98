/**
 * Consolidation: would the tasks on burst machines fit on fewer or cheaper machines?
 * Two answers: which machines could be emptied into the free room of the others (that
 * is what acting on it does: drain them), and what the same tasks would cost packed
 * afresh (what a rebuild could reach). Tasks are matched to free room with the
 * scheduler's own placement rule.
 */
import { maxPlaceable, type AgentView, type Constraint } from '../../scheduler/index.js';
import { packDemand, type PackCandidate } from './packing.js';

/** What one task holds. */
export interface TaskShape {
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly gpus: number;
  readonly diskGiB: number;
  readonly ports: number;
  /** Where it may run (its framework's constraints); none when absent. */
  readonly constraints?: readonly Constraint[];
}

/** Constraints that count a job's other tasks: a move cannot be checked without them. */
const COUNTING = new Set<Constraint['op']>(['uniqueHost', 'maxPerAgent', 'spread']);

export interface ConsolidationMachine {
  readonly id: string;
  readonly pricePerHour: number;
  readonly tasks: readonly TaskShape[];
}

export interface ConsolidationInput {
  /** Burst machines with tasks. */
  readonly machines: readonly ConsolidationMachine[];
  /** Free room of the agents that stay (base pools, other burst machines), by agent id. */
  readonly rooms: readonly AgentView[];
  /** What could be bought instead, and how many per target. */
  readonly candidates: readonly PackCandidate[];
  readonly perGroup: ReadonlyMap<string, number>;
}

export interface ConsolidationPlan {
  /** Machines whose every task fits in free room elsewhere (emptiest first). */
  readonly removable: readonly string[];
  readonly tasks: number;
  readonly currentPerHour: number;
  readonly repackedPerHour: number;
  /** What draining the removable machines saves. */
  readonly savingPerHour: number;
}

/**
 * Works out a consolidation plan.
 *
 * @example
 * ```ts
 * const plan = planConsolidation({ machines, rooms, candidates, perGroup });
 * if (plan.savingPerHour > 0) console.log(`drain ${plan.removable.join(', ')}`);
 * ```
 */
export function planConsolidation(input: ConsolidationInput): ConsolidationPlan {
  const rooms = input.rooms.map((v) => ({ ...v, available: { ...v.available } }));
  const removable: string[] = [];
  const order = [...input.machines].sort(
    (a, b) => a.tasks.length - b.tasks.length || b.pricePerHour - a.pricePerHour,
  );
  const gone = new Set<string>();
  // Machines that take moved tasks stay: emptying one too would strand what it took.
  const receiving = new Set<string>();
  for (const m of order) {
    if (receiving.has(m.id)) continue;
    const used: string[] = [];
    const trial = rooms
      .filter((r) => r.id !== m.id && !gone.has(r.id))
      .map((r) => ({ ...r, available: { ...r.available } }));
    let ok = true;
    for (const t of m.tasks) {
      const constraints = t.constraints ?? [];
      // NOTE: the job's other tasks are not known here, so a task with a counting
      // constraint stays where it is rather than risk a move its framework cannot make.
      const room = constraints.some((c) => COUNTING.has(c.op))
        ? undefined
        : trial.find((r) => maxPlaceable({ resources: t, constraints }, r, undefined, 1) >= 1);
      if (room === undefined) {
        ok = false;
        break;
      }
      used.push(room.id);
      const a = room.available;
      a.cpus = Math.round((a.cpus - t.cpus) * 1000) / 1000;
      a.memoryMiB -= t.memoryMiB;
      a.gpus -= t.gpus;
      a.diskGiB -= t.diskGiB;
      a.ports -= t.ports;
    }
    if (!ok) continue;
    removable.push(m.id);
    gone.add(m.id);
    for (const id of used) receiving.add(id);
    // The room the moved tasks take is spoken for.
    for (const r of trial) {
      const live = rooms.find((x) => x.id === r.id)!;
      live.available = r.available;
    }
  }
  const shapes = new Map<string, { shape: TaskShape; count: number }>();
  let tasks = 0;
  for (const m of input.machines)
    for (const t of m.tasks) {
      tasks++;
      const key = `${t.cpus}|${t.memoryMiB}|${t.gpus}|${t.diskGiB}|${t.ports}|${JSON.stringify(t.constraints ?? [])}`;
      const e = shapes.get(key) ?? { shape: t, count: 0 };
      e.count++;
      shapes.set(key, e);
    }
  const current = input.machines.reduce((n, m) => n + m.pricePerHour, 0);
  const repacked =
    input.candidates.length === 0 || tasks === 0
      ? current
      : Math.min(
          current,
          packDemand(
            [...shapes.values()].map((s, i) => ({
              key: `shape-${i}`,
              request: { resources: s.shape, constraints: s.shape.constraints ?? [] },
              count: s.count,
              priority: 0,
            })),
            input.candidates,
            { budgetPerHour: Infinity, maxMachines: Infinity, perGroup: input.perGroup },
          ).pricePerHour,
        );
  const saving = input.machines
    .filter((m) => gone.has(m.id))
    .reduce((n, m) => n + m.pricePerHour, 0);
  return {
    removable,
    tasks,
    currentPerHour: current,
    repackedPerHour: repacked,
    savingPerHour: saving,
  };
}
