/**
 * The seam between the logical datacenter and a scheduler: running machines become
 * agents, machines that leave (deleted) or are lost (gone, failed) take their agents
 * with them. The datacenter calls an {@link AgentSink}; it knows nothing else of the
 * scheduler.
 */
import type { Machine, MachineAddress, Resources } from '../core/index.js';

/** What a scheduler needs to know of a machine to run work on it. */
export interface MachineAgent {
  /** kumo's machine id; the agent's id. */
  readonly id: string;
  readonly resources: Resources;
  readonly attributes: {
    readonly provider: string;
    readonly region: string;
    readonly zone: string;
    readonly pool: string;
    readonly spot: boolean;
    readonly pricePerHour?: number;
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly addresses: readonly MachineAddress[];
}

/**
 * Told of every machine that becomes running, leaves or is lost. Calls are idempotent
 * from the sink's view: the same machine may be reported running more than once (each
 * refresh or `syncAgents`), and must be treated as one agent.
 */
export interface AgentSink {
  machineRunning(agent: MachineAgent): void;
  /** The machine was deleted on purpose (scale down, replace, destroy). */
  machineLeft(id: string, reason: string): void;
  /** The machine disappeared or failed without kumo asking. */
  machineLost(id: string, reason: string): void;
}

/** Labels that are kumo's bookkeeping, not attributes a task would match on. */
const INTERNAL_LABEL = /^kumo-(dc|key|id|spec)$/;

export function toAgent(pool: string, machine: Machine): MachineAgent {
  return {
    id: machine.id,
    resources: machine.resources,
    attributes: {
      provider: machine.provider,
      region: machine.region,
      zone: machine.zone,
      pool,
      spot: machine.spot,
      ...(machine.pricePerHour === undefined ? {} : { pricePerHour: machine.pricePerHour }),
      labels: Object.fromEntries(
        Object.entries(machine.labels).filter(([k]) => !INTERNAL_LABEL.test(k)),
      ),
    },
    addresses: machine.addresses,
  };
}
