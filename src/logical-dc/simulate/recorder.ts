/**
 * Watches a simulation from the inside: an executor around the instant executor that
 * notes when each task first starts (its wait), how busy each agent is (idle spells of
 * burst machines) and how much of the capacity is in use over time.
 */
import type { Clock } from '../../core/index.js';
import {
  InstantExecutor,
  isTerminal,
  type Executor,
  type TaskLaunch,
  type TaskRun,
} from '../../scheduler/index.js';

type TaskSink = Parameters<Executor['launch']>[1];
import { StepIntegral } from './metrics.js';

interface AgentRecord {
  readonly burst: boolean;
  readonly cpus: number;
  readonly addedAt: number;
  tasks: number;
  idleSince: number | undefined;
  longestIdleMs: number;
  idleMs: number;
}

/** The longest idle spell of one burst machine. */
export interface IdleSpell {
  readonly agentId: string;
  readonly longestIdleMs: number;
}

/** The fractional price per hour of hosting a demand vector (see fractional-bound.ts). */
export type BoundRate = (demand: {
  cpus: number;
  memoryMiB: number;
  gpus: number;
  diskGiB: number;
}) => number;

export class SimulationRecorder implements Executor {
  readonly #clock: Clock;
  readonly #inner: InstantExecutor;
  /** `<job>.<index>` → when it first started. */
  readonly #started = new Map<string, number>();
  readonly #agents = new Map<string, AgentRecord>();
  readonly #retired: IdleSpell[] = [];
  readonly usedBurst: StepIntegral;
  readonly usedBase: StepIntegral;
  readonly capacityBurst: StepIntegral;
  readonly capacityBase: StepIntegral;
  running = 0;
  /** What burst agents host now, and the integral of its fractional price (USD·ms/h). */
  readonly #burstDemand = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
  readonly #burstBound: StepIntegral;
  #rate: BoundRate | undefined;
  readonly #rates = new Map<string, number>();

  constructor(clock: Clock, start: number) {
    this.#clock = clock;
    this.#inner = new InstantExecutor({ clock });
    this.usedBurst = new StepIntegral(start);
    this.usedBase = new StepIntegral(start);
    this.capacityBurst = new StepIntegral(start);
    this.capacityBase = new StepIntegral(start);
    this.#burstBound = new StepIntegral(start);
  }

  /** Prices what burst agents host, so {@link burstWorkBoundUsd} can be integrated. */
  priceBurstWork(rate: BoundRate): void {
    this.#rate = rate;
  }

  /**
   * The least the work burst machines hosted could have cost: at every instant, the
   * fractional lower bound of what they ran, in USD.
   */
  burstWorkBoundUsd(now: number): number {
    return this.#burstBound.total(now) / 3_600_000;
  }

  #burstChanged(now: number, r: TaskLaunch['resources'], sign: 1 | -1): void {
    const d = this.#burstDemand;
    d.cpus = Math.round((d.cpus + sign * r.cpus) * 1000) / 1000;
    d.memoryMiB += sign * r.memoryMiB;
    d.gpus += sign * r.gpus;
    d.diskGiB += sign * r.diskGiB;
    if (this.#rate === undefined) return;
    const key = `${d.cpus}|${d.memoryMiB}|${d.gpus}|${d.diskGiB}`;
    let rate = this.#rates.get(key);
    if (rate === undefined) {
      rate = this.#rate({ ...d });
      this.#rates.set(key, rate);
    }
    this.#burstBound.set(now, rate);
  }

  /** When the task `<job>.<index>` first started, if it has. */
  startedAt(taskKey: string): number | undefined {
    return this.#started.get(taskKey);
  }

  agentAdded(id: string, cpus: number, burst: boolean): void {
    if (this.#agents.has(id)) return;
    const now = this.#clock.now();
    this.#agents.set(id, {
      burst,
      cpus,
      addedAt: now,
      tasks: 0,
      idleSince: now,
      longestIdleMs: 0,
      idleMs: 0,
    });
    (burst ? this.capacityBurst : this.capacityBase).add(now, cpus);
  }

  /**
   * Ends an agent; says when it joined (its machine ran) and how long in all it ran no
   * task, for the cost breakdown. Undefined for an agent it never saw.
   */
  agentGone(id: string): { readonly addedAt: number; readonly idleMs: number } | undefined {
    const a = this.#agents.get(id);
    if (a === undefined) return undefined;
    const now = this.#clock.now();
    this.#endIdle(a, now);
    (a.burst ? this.capacityBurst : this.capacityBase).add(now, -a.cpus);
    if (a.burst) this.#retired.push({ agentId: id, longestIdleMs: a.longestIdleMs });
    this.#agents.delete(id);
    return { addedAt: a.addedAt, idleMs: a.idleMs };
  }

  /** Longest idle spell of every burst machine, those still up included (as of now). */
  idleSpells(): IdleSpell[] {
    const now = this.#clock.now();
    const live = [...this.#agents]
      .filter(([, a]) => a.burst)
      .map(([agentId, a]) => ({
        agentId,
        longestIdleMs: Math.max(a.longestIdleMs, a.idleSince === undefined ? 0 : now - a.idleSince),
      }));
    return [...this.#retired, ...live];
  }

  launch(task: TaskLaunch, sink: TaskSink): TaskRun {
    const now = this.#clock.now();
    const key = task.taskId.slice(0, task.taskId.lastIndexOf('.'));
    if (!this.#started.has(key)) this.#started.set(key, now);
    const agent = this.#agents.get(task.agentId);
    const cpus = task.resources.cpus;
    if (agent !== undefined) {
      this.#endIdle(agent, now);
      agent.tasks++;
      (agent.burst ? this.usedBurst : this.usedBase).add(now, cpus);
      if (agent.burst) this.#burstChanged(now, task.resources, 1);
    }
    this.running++;
    let ended = false;
    return this.#inner.launch(task, {
      report: (update) => {
        if (!ended && isTerminal(update.state)) {
          ended = true;
          const t = this.#clock.now();
          this.running--;
          if (agent !== undefined) {
            agent.tasks--;
            (agent.burst ? this.usedBurst : this.usedBase).add(t, -cpus);
            if (agent.burst) this.#burstChanged(t, task.resources, -1);
            if (agent.tasks === 0 && this.#agents.get(task.agentId) === agent) agent.idleSince = t;
          }
        }
        sink.report(update);
      },
    });
  }

  #endIdle(a: AgentRecord, now: number): void {
    if (a.idleSince === undefined) return;
    a.longestIdleMs = Math.max(a.longestIdleMs, now - a.idleSince);
    a.idleMs += now - a.idleSince;
    a.idleSince = undefined;
  }
}
