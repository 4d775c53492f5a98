/**
 * Packing with a provider preference: `cheapest` packs over every candidate at once
 * (the order only breaks ties, through each candidate's rank); `ordered` fills the most
 * preferred provider first and gives later ones only what it could not take.
 */
import {
  packDemand,
  type PackCandidate,
  type PackedMachine,
  type PackItem,
  type PackLimits,
  type PackOptions,
  type PackResult,
  type UnplacedReason,
} from './packing.js';

/**
 * Packs `items` onto `candidates` by the preference mode.
 *
 * @example
 * ```ts
 * const plan = packByPreference('ordered', items, candidates, limits);
 * ```
 */
export function packByPreference(
  mode: 'cheapest' | 'ordered',
  items: readonly PackItem[],
  candidates: readonly PackCandidate[],
  limits: PackLimits,
  options: PackOptions = {},
): PackResult {
  if (mode === 'cheapest') return packDemand(items, candidates, limits, options);
  const tiers = [...new Set(candidates.map((c) => c.rank))].sort((a, b) => a - b);
  const machines: PackedMachine[] = [];
  const strategies: PackResult['strategies'][number][] = [];
  const reasons = new Map<string, UnplacedReason>();
  let left = items.map((it) => ({ ...it }));
  let price = 0;
  let bound = 0;
  let strategy = '';
  for (const tier of tiers) {
    if (left.length === 0) break;
    const used = new Map<string, number>();
    for (const m of machines) used.set(m.candidate.group, (used.get(m.candidate.group) ?? 0) + 1);
    const r = packDemand(
      left,
      candidates.filter((c) => c.rank === tier),
      {
        budgetPerHour: limits.budgetPerHour - price,
        maxMachines: limits.maxMachines - machines.length,
        perGroup: new Map(
          [...limits.perGroup].map(([g, n]) => [g, n - (used.get(g) ?? 0)] as const),
        ),
      },
      options,
    );
    machines.push(...r.machines);
    strategies.push(...r.strategies.map((s) => ({ ...s, name: `rank${tier}:${s.name}` })));
    price += r.pricePerHour;
    bound += r.lowerBoundPerHour;
    if (r.machines.length > 0) strategy = strategy ? `${strategy}+${r.strategy}` : r.strategy;
    // A later provider may take what this one could not; keep the most telling reason.
    for (const u of r.unplaced)
      if (reasons.get(u.key) === undefined || reasons.get(u.key) === 'no-candidate')
        reasons.set(u.key, u.reason);
    const rest = new Map(r.unplaced.map((u) => [u.key, u.count]));
    left = left.filter((it) => rest.has(it.key)).map((it) => ({ ...it, count: rest.get(it.key)! }));
  }
  let placed = 0;
  for (const m of machines) for (const n of m.tasks.values()) placed += n;
  return {
    machines,
    pricePerHour: price,
    placed,
    unplaced: left.map((it) => ({
      key: it.key,
      count: it.count,
      reason: reasons.get(it.key) ?? 'no-candidate',
    })),
    strategy: strategy || 'ordered',
    strategies,
    lowerBoundPerHour: bound,
  };
}
