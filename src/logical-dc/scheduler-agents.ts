/**
 * The agent seam wired to kumo's scheduler: running machines become agents with their
 * resources and attributes (provider, region, zone, pool, spot, price, labels); a
 * machine deleted by kumo removes its agent, a machine lost outside kumo marks its
 * agent lost (its tasks are reported LOST to their frameworks).
 */
import type { Scheduler } from '../scheduler/index.js';
import type { AgentSink } from './agents.js';

export interface SchedulerAgentsOptions {
  /** Port ranges every agent offers. Default `[[31000, 32000]]`, as Mesos agents do. */
  readonly ports?: readonly (readonly [number, number])[];
}

/**
 * An {@link AgentSink} that keeps `scheduler`'s agents in step with the datacenter's
 * running machines. Idempotent: a machine reported running twice is one agent.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ executor: new InstantExecutor() });
 * const dc = new LogicalDatacenter({ name: 'hybrid-1', store, providers, scheduler });
 * // dc.scheduler === scheduler; running machines are its agents
 * ```
 */
export function schedulerAgents(
  scheduler: Scheduler,
  options: SchedulerAgentsOptions = {},
): AgentSink {
  const ports = (options.ports ?? [[31000, 32000]]).map(
    ([from, to]) => [from, to] as [number, number],
  );
  return {
    machineRunning(agent) {
      // NOTE: an agent already known (draining, say) is left as the scheduler has it.
      if (scheduler.agent(agent.id) !== undefined) return;
      const a = agent.attributes;
      scheduler.addAgent({
        id: agent.id,
        // The machine id, unique in the datacenter: private addresses repeat across
        // clouds and networks, and uniqueHost constraints must not merge two machines.
        hostname: agent.id,
        resources: { ...agent.resources, ports },
        attributes: {
          provider: a.provider,
          region: a.region,
          zone: a.zone,
          pool: a.pool,
          spot: a.spot,
          ...(a.pricePerHour === undefined ? {} : { pricePerHour: a.pricePerHour }),
          labels: { ...a.labels },
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

/** Tells every sink in turn (the scheduler's and one a caller gave). */
export function fanOut(sinks: readonly AgentSink[]): AgentSink {
  return {
    machineRunning: (agent) => sinks.forEach((s) => s.machineRunning(agent)),
    machineLeft: (id, reason) => sinks.forEach((s) => s.machineLeft(id, reason)),
    machineLost: (id, reason) => sinks.forEach((s) => s.machineLost(id, reason)),
  };
}
