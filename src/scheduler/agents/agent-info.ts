import type { Resources } from '../../core/index.js';
import type { AgentView } from '../jobs/constraints.js';
import { portCount, toRanges, type PortRange } from '../resources/ports.js';
import { plus, resourcesOf, zeroScalars } from '../resources/scalars.js';
import type { Agent, AgentStatus } from './agent.js';
import type { AgentAttributes } from './agent-schemas.js';

/** An agent as callers see it. */
export interface AgentInfo {
  readonly id: string;
  readonly hostname: string;
  readonly status: AgentStatus;
  readonly attributes: Readonly<AgentAttributes>;
  readonly total: Resources & { readonly ports: PortRange[] };
  readonly reservations: Readonly<
    Record<
      string,
      { readonly total: Resources; readonly allocated: Resources; readonly dynamic: Resources }
    >
  >;
  /** Offered or used, reserved or not. */
  readonly allocated: Resources;
  /** Free unreserved resources and ports. */
  readonly available: Resources & { readonly ports: PortRange[] };
  readonly tasks: number;
  readonly offers: number;
  readonly drainDeadline: number | undefined;
  /**
   * When a task last started on it or ended (clock ms); undefined before its first
   * task. With `tasks`, how long it has really been idle, short tasks included.
   */
  readonly lastTaskAt: number | undefined;
}

export function agentInfoOf(agent: Agent): AgentInfo {
  const reservations: Record<
    string,
    { total: Resources; allocated: Resources; dynamic: Resources }
  > = {};
  const allocated = { ...agent.unreservedAllocated };
  for (const [role, pool] of agent.reservations) {
    reservations[role] = {
      total: resourcesOf(pool.total),
      allocated: resourcesOf(pool.allocated),
      dynamic: resourcesOf(pool.dynamic),
    };
    allocated.milliCpus += pool.allocated.milliCpus;
    allocated.memoryMiB += pool.allocated.memoryMiB;
    allocated.gpus += pool.allocated.gpus;
    allocated.diskGiB += pool.allocated.diskGiB;
  }
  return {
    id: agent.id,
    hostname: agent.hostname,
    status: agent.status,
    attributes: agent.attributes,
    total: { ...resourcesOf(agent.total), ports: toRanges(agent.totalPorts) },
    reservations,
    allocated: resourcesOf(allocated),
    available: {
      ...resourcesOf(agent.freeUnreservedInto(zeroScalars())),
      ports: toRanges(agent.freePorts),
    },
    tasks: agent.tasks.length,
    offers: agent.offers.length,
    drainDeadline: agent.drainDeadline,
    lastTaskAt: agent.lastTaskAt,
  };
}

/** What placement sees of an agent for a task in `role` (unreserved plus that role's free reservation). */
export function agentViewOf(agent: Agent, role: string): AgentView {
  const free = agent.freeUnreservedInto(zeroScalars());
  const reserved = agent.freeReserved(role);
  const a = resourcesOf(reserved === undefined ? free : plus(free, reserved));
  return {
    id: agent.id,
    hostname: agent.hostname,
    attributes: agent.attributes,
    available: { ...a, ports: portCount(agent.freePorts) },
  };
}
