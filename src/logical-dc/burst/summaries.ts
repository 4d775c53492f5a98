/** How decisions describe demand and machines in their events. */
import type { DemandItem } from '../../scheduler/index.js';
import type { CandidateSummary, DemandSummary } from './burst-events.js';
import type { BurstCandidate } from './candidates.js';

/** A demand item as a decision saw it: `count` of its tasks still without room. */
export function demandSummary(item: DemandItem, count: number, now: number): DemandSummary {
  return {
    key: item.key ?? item.framework,
    framework: item.framework,
    role: item.role,
    count,
    resources: {
      cpus: item.resources.cpus,
      memoryMiB: item.resources.memoryMiB,
      gpus: item.resources.gpus,
      diskGiB: item.resources.diskGiB,
    },
    waitedS: Math.round((now - item.since) / 100) / 10,
    priority: item.priority,
  };
}

export function candidateSummary(c: BurstCandidate): CandidateSummary {
  return {
    id: c.id,
    provider: c.provider,
    size: c.size,
    ...(c.zone === undefined ? {} : { zone: c.zone }),
    spot: c.spot,
    pricePerHour: c.pricePerHour,
    cpus: c.resources.cpus,
    memoryMiB: c.resources.memoryMiB,
    gpus: c.resources.gpus,
  };
}

/** The cheapest candidates per vCPU, for a decision's reason. */
export function cheapestCandidates(
  candidates: readonly BurstCandidate[],
  n = 8,
): CandidateSummary[] {
  return [...candidates]
    .sort(
      (a, b) =>
        a.pricePerHour / Math.max(a.resources.cpus, 1e-9) -
          b.pricePerHour / Math.max(b.resources.cpus, 1e-9) || (a.id < b.id ? -1 : 1),
    )
    .slice(0, n)
    .map(candidateSummary);
}
