/**
 * The agent seam, wired to kumo's scheduler: running machines become agents with their
 * resources and attributes, machines that leave or are lost take their agents with
 * them. Idempotent, as the seam requires: a machine reported running twice is one agent.
 */
import type { Scheduler } from '../../scheduler/index.js';
import type { AgentSink } from '../agents.js';

export interface SchedulerSinkOptions {
  /** Port ranges every agent offers. Default `[[31000, 32000]]`, as Mesos agents do. */
  readonly ports?: readonly (readonly [number, number])[];
}

/** Ports an agent offers by default. */
export const DEFAULT_AGENT_PORTS: readonly (readonly [number, number])[] = [[31000, 32000]];

/** How many ports `ranges` hold. */
export function portsIn(ranges: readonly (readonly [number, number])[]): number {
  return ranges.reduce((n, [b, e]) => n + e - b + 1, 0);
}

/**
 * An {@link AgentSink} that registers machines with `scheduler`.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ executor: new LocalProcessExecutor() });
 * const dc = new LogicalDatacenter({ name: 'hybrid-1', store, providers, agents: schedulerSink(scheduler) });
 * await dc.syncAgents(); // machines already running become agents
 * ```
 */
export function schedulerSink(scheduler: Scheduler, options: SchedulerSinkOptions = {}): AgentSink {
  const ports = (options.ports ?? DEFAULT_AGENT_PORTS).map(([b, e]) => [b, e] as [number, number]);
  return {
    machineRunning(agent) {
      // NOTE: an agent already known (draining, say) is left as the scheduler has it.
      if (scheduler.agent(agent.id) !== undefined) return;
      scheduler.addAgent({
        id: agent.id,
        hostname: agent.id,
        resources: { ...agent.resources, ports },
        attributes: {
          provider: agent.attributes.provider,
          region: agent.attributes.region,
          zone: agent.attributes.zone,
          pool: agent.attributes.pool,
          spot: agent.attributes.spot,
          ...(agent.attributes.pricePerHour === undefined
            ? {}
            : { pricePerHour: agent.attributes.pricePerHour }),
          labels: { ...agent.attributes.labels },
        },
      });
    },
    machineLeft(id) {
      if (scheduler.agent(id) !== undefined) scheduler.removeAgent(id);
    },
    machineLost(id) {
      if (scheduler.agent(id) !== undefined) scheduler.markAgentLost(id);
    },
  };
}
