/**
 * Bin-packing demand onto machines to buy: which machines, from which candidates, hold
 * the waiting tasks for the least price per hour within the budget and the limits.
 *
 * Whether a task fits on a machine is decided by the scheduler's own placement rule
 * (`maxPlaceable`, which the jobs framework uses on real offers) applied to imagined
 * agents, so the packer never disagrees with placement about resources or constraints.
 *
 * Several strategies run and the cheapest result wins (most demand placed first):
 * - `ffd`: first-fit decreasing, opening the cheapest machine that takes the next task
 *   (the floor);
 * - `ffd:<candidate>`: first-fit decreasing onto one machine type (each of the few best);
 * - `greedy`: repeatedly buy the machine with the lowest price per unit of demand it
 *   would hold, filled largest-first — this is how it mixes sizes.
 * Each result is then improved: machines are swapped for cheaper ones that still hold
 * their tasks, and a machine whose tasks fit in the others' free room is dropped.
 */
import {
  attributeValue,
  maxPlaceable,
  type AgentAttributes,
  type AgentView,
  type PlacementContext,
  type PlacementRequest,
} from '../../scheduler/index.js';
import { fractionalLowerBound, type BoundVector } from './fractional-bound.js';

/** Tasks of one kind waiting: `count` copies of `request`. */
export interface PackItem {
  readonly key: string;
  readonly request: PlacementRequest;
  readonly count: number;
  readonly priority: number;
}

/** What the machines of one candidate have. */
export interface PackCapacity {
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly gpus: number;
  readonly diskGiB: number;
  readonly ports: number;
}

/** A kind of machine that can be bought. */
export interface PackCandidate {
  readonly id: string;
  readonly pricePerHour: number;
  readonly capacity: PackCapacity;
  /** What placement constraints see of such a machine. */
  readonly attributes: Readonly<AgentAttributes>;
  /** Limit group (the burst target): `PackLimits.perGroup` caps machines per group. */
  readonly group: string;
  /** Preference among equals: lower first. */
  readonly rank: number;
}

/** What may still be bought. */
export interface PackLimits {
  readonly budgetPerHour: number;
  readonly maxMachines: number;
  /** Machines left per group; a group missing here has no room. */
  readonly perGroup: ReadonlyMap<string, number>;
}

export interface PackOptions {
  /** Values an attribute takes in the cluster already (a spread constraint's domain). */
  readonly domain?: (attribute: string) => Iterable<string>;
  /** `ffd`: plain first-fit decreasing only, unimproved (a baseline). Default `best`. */
  readonly strategies?: 'best' | 'ffd';
}

/** One machine to buy and the tasks it is bought for. */
export interface PackedMachine {
  readonly candidate: PackCandidate;
  readonly tasks: ReadonlyMap<string, number>;
}

export type UnplacedReason = 'no-candidate' | 'budget' | 'max-machines';

export interface StrategyResult {
  readonly name: string;
  readonly pricePerHour: number;
  readonly machines: number;
  readonly placed: number;
}

export interface PackResult {
  readonly machines: readonly PackedMachine[];
  readonly pricePerHour: number;
  /** Tasks the machines hold. */
  readonly placed: number;
  readonly unplaced: readonly { key: string; count: number; reason: UnplacedReason }[];
  /** The strategy whose result this is. */
  readonly strategy: string;
  /** Every strategy tried, for the decision's reason. */
  readonly strategies: readonly StrategyResult[];
  /** The fractional lower bound for the demand that was placed. */
  readonly lowerBoundPerHour: number;
}

const REL = 1e-9;

interface Bin {
  readonly id: string;
  candidate: PackCandidate;
  view: { id: string; hostname: string; attributes: Readonly<AgentAttributes>; available: Avail };
  readonly tasks: Map<string, number>;
}

interface Avail {
  cpus: number;
  memoryMiB: number;
  gpus: number;
  diskGiB: number;
  ports: number;
}

interface Item extends PackItem {
  readonly weight: number;
  readonly spread: boolean;
  readonly order: number;
}

/**
 * Packs `items` onto machines bought from `candidates`, cheapest first, within `limits`.
 *
 * @example
 * ```ts
 * const result = packDemand(
 *   [{ key: 'render', request: { resources: { cpus: 2, memoryMiB: 4096 } }, count: 10, priority: 0 }],
 *   [{ id: 'c8', pricePerHour: 0.34, capacity: { cpus: 8, memoryMiB: 16384, gpus: 0, diskGiB: 0, ports: 1000 },
 *      attributes: { provider: 'cloud', labels: {} }, group: 'cloud', rank: 0 }],
 *   { budgetPerHour: 10, maxMachines: 10, perGroup: new Map([['cloud', 10]]) },
 * );
 * result.machines.length; // 3 (4 + 4 + 2 tasks)
 * ```
 */
export function packDemand(
  items: readonly PackItem[],
  candidates: readonly PackCandidate[],
  limits: PackLimits,
  options: PackOptions = {},
): PackResult {
  const domainCache = new Map<string, string[]>();
  const domain = (attribute: string): string[] => {
    let values = domainCache.get(attribute);
    if (values === undefined) {
      const set = new Set<string>(options.domain?.(attribute) ?? []);
      for (const c of candidates) {
        const v = attributeValue(c.attributes, c.id, attribute);
        if (v !== undefined) set.add(v);
      }
      values = [...set];
      domainCache.set(attribute, values);
    }
    return values;
  };
  const weighted: Item[] = [];
  const hopeless: { key: string; count: number; reason: UnplacedReason }[] = [];
  items.forEach((it, order) => {
    if (it.count <= 0) return;
    const weight = weightOf(it.request, candidates);
    if (weight === undefined)
      hopeless.push({ key: it.key, count: it.count, reason: 'no-candidate' });
    else
      weighted.push({
        ...it,
        weight,
        order,
        spread: (it.request.constraints ?? []).some((c) => c.op === 'spread'),
      });
  });
  // Higher priority first, then bigger tasks (first-fit *decreasing*).
  weighted.sort((a, b) => b.priority - a.priority || b.weight - a.weight || a.order - b.order);

  const runs: { name: string; packing: Packing }[] = [];
  if (options.strategies === 'ffd') {
    const plain = new Packing(weighted, candidates, limits, domain);
    plain.runFfd(undefined);
    runs.push({ name: 'ffd', packing: plain });
  } else runBest(runs, weighted, candidates, limits, domain);
  let best = runs[0]!;
  for (const r of runs.slice(1)) if (better(r.packing, best.packing)) best = r;
  return resultOf(best, runs, weighted, hopeless, candidates);
}

function runBest(
  runs: { name: string; packing: Packing }[],
  weighted: readonly Item[],
  candidates: readonly PackCandidate[],
  limits: PackLimits,
  domain: (attribute: string) => string[],
): void {
  const greedy = new Packing(weighted, candidates, limits, domain);
  const favourites = greedy.runGreedy();
  greedy.improve();
  runs.push({ name: 'greedy', packing: greedy });
  const ffd = new Packing(weighted, candidates, limits, domain);
  ffd.runFfd(undefined);
  ffd.improve();
  runs.push({ name: 'ffd', packing: ffd });
  for (const c of favourites.slice(0, 3)) {
    const p = new Packing(weighted, candidates, limits, domain);
    p.runFfd(c);
    p.improve();
    runs.push({ name: `ffd:${c.id}`, packing: p });
  }
}

function resultOf(
  best: { name: string; packing: Packing },
  runs: readonly { name: string; packing: Packing }[],
  weighted: readonly Item[],
  hopeless: readonly { key: string; count: number; reason: UnplacedReason }[],
  candidates: readonly PackCandidate[],
): PackResult {
  const p = best.packing;
  const unplaced = [...hopeless];
  for (const it of weighted) {
    const left = p.remaining.get(it.key) ?? 0;
    if (left > 0) unplaced.push({ key: it.key, count: left, reason: p.whyNot(it) });
  }
  return {
    machines: p.bins.map((b) => ({ candidate: b.candidate, tasks: new Map(b.tasks) })),
    pricePerHour: p.price,
    placed: p.placedCount,
    unplaced,
    strategy: best.name,
    strategies: runs.map((r) => ({
      name: r.name,
      pricePerHour: round6(r.packing.price),
      machines: r.packing.bins.length,
      placed: r.packing.placedCount,
    })),
    lowerBoundPerHour: fractionalLowerBound(p.placedVector(), candidates.map(boundCandidate)),
  };
}

function better(a: Packing, b: Packing): boolean {
  if (Math.abs(a.placedWeight - b.placedWeight) > REL * Math.max(1, b.placedWeight))
    return a.placedWeight > b.placedWeight;
  if (Math.abs(a.price - b.price) > REL * Math.max(1, b.price)) return a.price < b.price;
  return a.bins.length < b.bins.length;
}

function round6(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}

function boundCandidate(c: PackCandidate): { pricePerHour: number; capacity: BoundVector } {
  return {
    pricePerHour: c.pricePerHour,
    capacity: {
      cpus: c.capacity.cpus,
      memoryMiB: c.capacity.memoryMiB,
      gpus: c.capacity.gpus,
      diskGiB: c.capacity.diskGiB,
    },
  };
}

function emptyView(c: PackCandidate, id: string): Bin['view'] {
  return { id, hostname: id, attributes: c.attributes, available: { ...c.capacity } };
}

/**
 * What one task is worth: the least any candidate charges for the share of a machine
 * it takes (its largest fraction of any resource). Undefined when no candidate can
 * take it at all.
 */
function weightOf(req: PlacementRequest, candidates: readonly PackCandidate[]): number | undefined {
  let best: number | undefined;
  for (const c of candidates) {
    if (maxPlaceable(req, emptyView(c, c.id), undefined, 1) < 1) continue;
    const r = req.resources;
    const share = Math.max(
      c.capacity.cpus > 0 ? r.cpus / c.capacity.cpus : 0,
      c.capacity.memoryMiB > 0 ? r.memoryMiB / c.capacity.memoryMiB : 0,
      c.capacity.gpus > 0 ? (r.gpus ?? 0) / c.capacity.gpus : 0,
      c.capacity.diskGiB > 0 ? (r.diskGiB ?? 0) / c.capacity.diskGiB : 0,
      c.capacity.ports > 0 ? (r.ports ?? 0) / c.capacity.ports : 0,
    );
    const w = c.pricePerHour * share;
    if (best === undefined || w < best) best = w;
  }
  // A free candidate still makes a task worth something, so ratios stay finite.
  return best === undefined ? undefined : Math.max(best, 1e-9);
}

/** One packing in progress: bins bought, tasks left, money and machines used. */
class Packing {
  readonly bins: Bin[] = [];
  readonly remaining = new Map<string, number>();
  price = 0;
  #seq = 0;
  readonly #groupUsed = new Map<string, number>();
  readonly #contexts = new Map<string, PlacementContext>();

  constructor(
    readonly items: readonly Item[],
    readonly candidates: readonly PackCandidate[],
    readonly limits: PackLimits,
    readonly domain: (attribute: string) => string[],
  ) {
    for (const it of items) this.remaining.set(it.key, it.count);
  }

  get placedCount(): number {
    let n = 0;
    for (const it of this.items) n += it.count - (this.remaining.get(it.key) ?? 0);
    return n;
  }

  get placedWeight(): number {
    let w = 0;
    for (const it of this.items) w += (it.count - (this.remaining.get(it.key) ?? 0)) * it.weight;
    return w;
  }

  placedVector(): BoundVector {
    const v = { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 };
    for (const it of this.items) {
      const n = it.count - (this.remaining.get(it.key) ?? 0);
      const r = it.request.resources;
      v.cpus += n * r.cpus;
      v.memoryMiB += n * r.memoryMiB;
      v.gpus += n * (r.gpus ?? 0);
      v.diskGiB += n * (r.diskGiB ?? 0);
    }
    return v;
  }

  /** Whether one more machine of `c` may be bought (optionally in place of `instead`). */
  canBuy(c: PackCandidate, instead?: PackCandidate): boolean {
    const budget = this.limits.budgetPerHour - this.price + (instead?.pricePerHour ?? 0);
    if (c.pricePerHour > budget + 1e-9) return false;
    if (instead === undefined && this.bins.length >= this.limits.maxMachines) return false;
    const room = this.limits.perGroup.get(c.group) ?? 0;
    const used = (this.#groupUsed.get(c.group) ?? 0) - (instead?.group === c.group ? 1 : 0);
    return used < room;
  }

  /** Why an item's tasks were left: no machine could hold one within the limits. */
  whyNot(item: Item): UnplacedReason {
    const able = this.candidates.filter(
      (c) => maxPlaceable(item.request, emptyView(c, c.id), undefined, 1) >= 1,
    );
    if (able.length === 0) return 'no-candidate';
    const roomy = able.filter(
      (c) =>
        this.bins.length < this.limits.maxMachines &&
        (this.#groupUsed.get(c.group) ?? 0) < (this.limits.perGroup.get(c.group) ?? 0),
    );
    return roomy.length > 0 ? 'budget' : 'max-machines';
  }

  // --- building blocks -----------------------------------------------------------

  context(item: Item): PlacementContext {
    let ctx = this.#contexts.get(item.key);
    if (ctx === undefined) {
      const key = item.key;
      const bins = this.bins;
      ctx = {
        tasksOnAgent: (id) => bins.find((b) => b.id === id)?.tasks.get(key) ?? 0,
        tasksOnHost: (host) => bins.find((b) => b.id === host)?.tasks.get(key) ?? 0,
        tasksWith: (attribute, value) => {
          let n = 0;
          for (const b of bins)
            if (attributeValue(b.view.attributes, b.id, attribute) === value)
              n += b.tasks.get(key) ?? 0;
          return n;
        },
        attributeValues: (attribute) => this.domain(attribute),
      };
      this.#contexts.set(key, ctx);
    }
    return ctx;
  }

  /** How many of `item` fit on `view` now (at most `limit`). */
  fit(item: Item, view: AgentView, limit: number): number {
    return maxPlaceable(item.request, view, this.context(item), limit);
  }

  put(bin: Bin, item: Item, k: number): void {
    if (k <= 0) return;
    const r = item.request.resources;
    const a = bin.view.available;
    a.cpus = Math.round((a.cpus - r.cpus * k) * 1000) / 1000;
    a.memoryMiB -= r.memoryMiB * k;
    a.gpus -= (r.gpus ?? 0) * k;
    a.diskGiB -= (r.diskGiB ?? 0) * k;
    a.ports -= (r.ports ?? 0) * k;
    bin.tasks.set(item.key, (bin.tasks.get(item.key) ?? 0) + k);
    this.remaining.set(item.key, (this.remaining.get(item.key) ?? 0) - k);
  }

  take(bin: Bin, item: Item, k: number): void {
    if (k <= 0) return;
    const r = item.request.resources;
    const a = bin.view.available;
    a.cpus = Math.round((a.cpus + r.cpus * k) * 1000) / 1000;
    a.memoryMiB += r.memoryMiB * k;
    a.gpus += (r.gpus ?? 0) * k;
    a.diskGiB += (r.diskGiB ?? 0) * k;
    a.ports += (r.ports ?? 0) * k;
    const left = (bin.tasks.get(item.key) ?? 0) - k;
    if (left > 0) bin.tasks.set(item.key, left);
    else bin.tasks.delete(item.key);
    this.remaining.set(item.key, (this.remaining.get(item.key) ?? 0) + k);
  }

  open(c: PackCandidate): Bin {
    const id = `new-${++this.#seq}`;
    const bin: Bin = { id, candidate: c, view: emptyView(c, id), tasks: new Map() };
    this.bins.push(bin);
    this.price += c.pricePerHour;
    this.#groupUsed.set(c.group, (this.#groupUsed.get(c.group) ?? 0) + 1);
    return bin;
  }

  close(bin: Bin): void {
    for (const it of this.items) this.take(bin, it, bin.tasks.get(it.key) ?? 0);
    this.bins.splice(this.bins.indexOf(bin), 1);
    this.price -= bin.candidate.pricePerHour;
    this.#groupUsed.set(bin.candidate.group, (this.#groupUsed.get(bin.candidate.group) ?? 1) - 1);
  }

  /** Fills a new machine of `c` largest-first (without buying it): what it would hold. */
  trial(c: PackCandidate): { fill: Map<Item, number>; value: number } {
    const id = `trial-${this.#seq + 1}`;
    const bin: Bin = { id, candidate: c, view: emptyView(c, id), tasks: new Map() };
    this.bins.push(bin);
    const fill = new Map<Item, number>();
    let value = 0;
    for (const it of this.items) {
      const left = this.remaining.get(it.key) ?? 0;
      if (left <= 0) continue;
      const k = this.fit(it, bin.view, left);
      if (k <= 0) continue;
      this.put(bin, it, k);
      fill.set(it, k);
      value += k * it.weight;
    }
    for (const [it, k] of fill) this.take(bin, it, k);
    this.bins.pop();
    return { fill, value };
  }

  // --- strategies ----------------------------------------------------------------

  /**
   * Buys, again and again, the machine with the lowest price per unit of demand it
   * would hold. Returns the candidates in the order of the first round's ranking (the
   * single-type strategies start from them).
   */
  runGreedy(): PackCandidate[] {
    let ranking: PackCandidate[] | undefined;
    for (;;) {
      const scored: { c: PackCandidate; ratio: number; fill: Map<Item, number> }[] = [];
      for (const c of this.candidates) {
        if (!this.canBuy(c)) continue;
        const { fill, value } = this.trial(c);
        if (value <= 0) continue;
        scored.push({ c, ratio: c.pricePerHour / value, fill });
      }
      if (scored.length === 0) break;
      scored.sort(
        (a, b) =>
          (Math.abs(a.ratio - b.ratio) > 1e-6 * Math.max(a.ratio, b.ratio)
            ? a.ratio - b.ratio
            : 0) ||
          a.c.rank - b.c.rank ||
          // Equal value for money: the smaller machine, whose room is given back sooner.
          a.c.pricePerHour - b.c.pricePerHour ||
          (a.c.id < b.c.id ? -1 : 1),
      );
      ranking ??= scored.map((s) => s.c);
      const { c, fill } = scored[0]!;
      // The same fill again while enough is left (and no spread couples machines).
      let copies = Infinity;
      for (const [it, k] of fill) {
        copies = Math.min(copies, Math.floor((this.remaining.get(it.key) ?? 0) / k));
        if (it.spread) copies = 1;
      }
      for (let i = 0; i < copies && this.canBuy(c); i++) {
        const bin = this.open(c);
        for (const [it, k] of fill) this.put(bin, it, Math.min(k, this.remaining.get(it.key) ?? 0));
      }
    }
    return ranking ?? [];
  }

  /**
   * First-fit decreasing: each task goes on the first bought machine with room, else
   * on a new one — of `only` when it can take the task, else the cheapest that can.
   */
  runFfd(only: PackCandidate | undefined): void {
    for (const it of this.items) {
      let left = this.remaining.get(it.key) ?? 0;
      for (const bin of this.bins) {
        if (left <= 0) break;
        const k = this.fit(it, bin.view, left);
        this.put(bin, it, k);
        left -= k;
      }
      while (left > 0) {
        const c = this.#cheapestFor(it, only);
        if (c === undefined) break;
        const bin = this.open(c);
        const k = this.fit(it, bin.view, left);
        if (k <= 0) {
          this.close(bin);
          break;
        }
        this.put(bin, it, k);
        left -= k;
      }
    }
  }

  #cheapestFor(it: Item, only: PackCandidate | undefined): PackCandidate | undefined {
    if (only !== undefined && this.canBuy(only) && this.fit(it, emptyView(only, 'probe'), 1) >= 1)
      return only;
    let best: PackCandidate | undefined;
    for (const c of this.candidates) {
      if (!this.canBuy(c) || this.fit(it, emptyView(c, 'probe'), 1) < 1) continue;
      if (
        best === undefined ||
        c.pricePerHour < best.pricePerHour - 1e-12 ||
        (Math.abs(c.pricePerHour - best.pricePerHour) <= 1e-12 && c.rank < best.rank)
      )
        best = c;
    }
    return best;
  }

  // --- improvement ---------------------------------------------------------------

  /** Drops machines whose tasks fit elsewhere, then swaps each for the cheapest that holds its tasks. */
  improve(): void {
    this.#merge();
    this.#rightSize();
    this.#fillUp();
  }

  /** Empties the emptiest machines into the others' free room, where everything fits. */
  #merge(): void {
    let changed = true;
    while (changed) {
      changed = false;
      // The emptiest few are the ones worth emptying; trying all is cubic in machines.
      const order = [...this.bins].sort((a, b) => this.#load(a) - this.#load(b)).slice(0, 8);
      for (const bin of order) {
        if (this.bins.length < 2) return;
        if (this.#moveAll(bin)) {
          this.close(bin);
          changed = true;
          break;
        }
      }
    }
  }

  #load(bin: Bin): number {
    let v = 0;
    for (const it of this.items) v += (bin.tasks.get(it.key) ?? 0) * it.weight;
    return v / Math.max(bin.candidate.pricePerHour, 1e-9);
  }

  /** Moves every task of `bin` to other machines, or changes nothing and returns false. */
  #moveAll(bin: Bin): boolean {
    const moves: { to: Bin; item: Item; k: number }[] = [];
    const held = this.items
      .map((it) => ({ it, k: bin.tasks.get(it.key) ?? 0 }))
      .filter((x) => x.k > 0);
    for (const { it, k } of held) this.take(bin, it, k);
    let ok = true;
    for (const { it, k } of held) {
      let left = k;
      for (const to of this.bins) {
        if (to === bin || left <= 0) continue;
        const n = this.fit(it, to.view, left);
        if (n > 0) {
          this.put(to, it, n);
          moves.push({ to, item: it, k: n });
          left -= n;
        }
      }
      if (left > 0) {
        ok = false;
        break;
      }
    }
    if (ok) return true;
    for (const m of moves) this.take(m.to, m.item, m.k);
    for (const { it, k } of held) this.put(bin, it, k);
    return false;
  }

  /** Each machine becomes the cheapest candidate that still holds all its tasks. */
  #rightSize(): void {
    const byPrice = [...this.candidates].sort(
      (a, b) => a.pricePerHour - b.pricePerHour || a.rank - b.rank,
    );
    for (const bin of this.bins) {
      const held = this.items
        .map((it) => ({ it, k: bin.tasks.get(it.key) ?? 0 }))
        .filter((x) => x.k > 0);
      if (held.length === 0) continue;
      const spread = held.some((h) => h.it.spread);
      for (const c of byPrice) {
        if (c.pricePerHour >= bin.candidate.pricePerHour - 1e-12) break;
        if (!this.canBuy(c, bin.candidate)) continue;
        // A spread counts tasks per attribute value: keep the machine's values.
        if (spread && !sameSpreadValues(held, c, bin.candidate)) continue;
        if (this.#swap(bin, c, held)) break;
      }
    }
  }

  #swap(bin: Bin, c: PackCandidate, held: readonly { it: Item; k: number }[]): boolean {
    for (const { it, k } of held) this.take(bin, it, k);
    const old = { candidate: bin.candidate, view: bin.view };
    bin.candidate = c;
    bin.view = emptyView(c, bin.id);
    const done: { it: Item; k: number }[] = [];
    let ok = true;
    for (const { it, k } of held) {
      const n = this.fit(it, bin.view, k);
      this.put(bin, it, n);
      done.push({ it, k: n });
      if (n < k) {
        ok = false;
        break;
      }
    }
    if (ok) {
      this.price += c.pricePerHour - old.candidate.pricePerHour;
      this.#groupUsed.set(old.candidate.group, (this.#groupUsed.get(old.candidate.group) ?? 1) - 1);
      this.#groupUsed.set(c.group, (this.#groupUsed.get(c.group) ?? 0) + 1);
      return true;
    }
    for (const d of done) this.take(bin, d.it, d.k);
    bin.candidate = old.candidate;
    bin.view = old.view;
    for (const { it, k } of held) this.put(bin, it, k);
    return false;
  }

  /** Tasks still left (limits bit earlier) go into any free room the bought machines have. */
  #fillUp(): void {
    for (const it of this.items) {
      let left = this.remaining.get(it.key) ?? 0;
      for (const bin of this.bins) {
        if (left <= 0) break;
        const k = this.fit(it, bin.view, left);
        this.put(bin, it, k);
        left -= k;
      }
    }
  }
}

function sameSpreadValues(
  held: readonly { it: Item }[],
  a: PackCandidate,
  b: PackCandidate,
): boolean {
  for (const { it } of held)
    for (const c of it.request.constraints ?? [])
      if (
        c.op === 'spread' &&
        attributeValue(a.attributes, a.id, c.attribute) !==
          attributeValue(b.attributes, b.id, c.attribute)
      )
        return false;
  return true;
}
