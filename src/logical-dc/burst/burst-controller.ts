/**
 * The burst controller: on the injected clock, it reads the scheduler's demand, buys
 * machines for what waited `pendingFor` and fits nowhere (cheapest packing within the
 * budget and limits, through the logical datacenter), and drains and releases burst
 * machines that sit idle. Every decision is an event with its reason.
 *
 * Decisions run one at a time (a promise chain), and every machine is counted against
 * the budget and the limits from the moment it is decided — before the cloud is asked —
 * so no interleaving of decisions can overspend. One controller per datacenter.
 */
import {
  errorMessage,
  isKumoError,
  parse,
  systemClock,
  ValidationError,
  type Clock,
  type Resources,
} from '../../core/index.js';
import type { AgentAttributes, AgentView, DemandItem, Scheduler } from '../../scheduler/index.js';
import { AdHocMachines } from '../ad-hoc-machines.js';
import type { LogicalDatacenter } from '../logical-datacenter.js';
import type { DatacenterSpec } from '../spec.js';
import {
  BurstPolicySchema,
  burstPolicyIssues,
  providerRanks,
  type BurstPolicy,
  type BurstPolicyInput,
} from './burst-schema.js';
import {
  BurstEventHub,
  type BurstEvent,
  type BurstHoldReason,
  type BurstMachineView,
  type DemandSummary,
} from './burst-events.js';
import { isDefinitive } from '../journaled-create.js';
import type { BurstLog } from './burst-log.js';
import {
  buildCandidates,
  burstGroup,
  DEFAULT_PORTS_PER_AGENT,
  targetOfPool,
  type BurstCandidate,
  type ProviderCatalog,
} from './candidates.js';
import { unplacedDemand, type IncomingMachine } from './current-fit.js';
import { formatDuration } from './duration.js';
import { planConsolidation, type TaskShape } from './consolidation.js';
import { pruneDominated } from './fractional-bound.js';
import type { PackedMachine, PackItem, PackResult } from './packing.js';
import { packByPreference } from './preference-pack.js';
import { cheapestCandidates, candidateSummary, demandSummary } from './summaries.js';

export interface BurstControllerOptions {
  /** The datacenter; its running machines must be agents of the scheduler (give it one). */
  readonly dc: LogicalDatacenter;
  /** The scheduler whose demand is read and whose agents are drained. Default `dc.scheduler`. */
  readonly scheduler?: Scheduler;
  readonly policy: BurstPolicyInput | BurstPolicy;
  /**
   * The datacenter spec the policy belongs to: its base pools are checked against it
   * and its labels go on burst machines.
   */
  readonly spec?: Pick<DatacenterSpec, 'pools' | 'labels'>;
  readonly clock?: Clock;
  /** Where decisions are also written (`fileBurstLog`), for `kumo status`. */
  readonly log?: BurstLog;
  /** Ports each agent offers, as the agent sink registers them. Default 1001. */
  readonly portsPerAgent?: number;
  /** How long a size (capacity) or provider (quota) that failed is skipped. Default 5 min. */
  readonly failureBackoffMs?: number;
  /** Sizes and prices are read again after this long. Default 1 h. */
  readonly catalogTtlMs?: number;
  /** `ffd`: plain first-fit decreasing instead of kumo's packing (for comparisons). */
  readonly packing?: 'best' | 'ffd';
}

/** Where a burst machine is in its life. */
export type BurstMachineState = 'provisioning' | 'booting' | 'active' | 'draining' | 'releasing';

/** A burst machine as the controller holds it. */
export interface BurstMachineInfo extends BurstMachineView {
  readonly state: BurstMachineState;
  readonly createdAt: number;
  readonly runningAt: number | undefined;
  readonly idleSince: number | undefined;
}

/** What one decision did. */
export interface BurstTickReport {
  readonly at: number;
  readonly launched: readonly string[];
  readonly drained: readonly string[];
  readonly released: readonly string[];
  readonly held: { readonly reason: BurstHoldReason; readonly message: string } | undefined;
  readonly spendPerHour: number;
}

interface Tracked {
  /** The idempotency key of its create; its id until the machine exists. */
  readonly key: string;
  id: string;
  readonly target: string;
  readonly provider: string;
  readonly size: string;
  readonly zone: string | undefined;
  readonly spot: boolean;
  pricePerHour: number;
  readonly resources: Resources;
  readonly attributes: Readonly<AgentAttributes>;
  state: BurstMachineState;
  /** The create's outcome is unknown (timeout, dropped connection): resume it. */
  uncertain: boolean;
  readonly createdAt: number;
  runningAt: number | undefined;
  idleSince: number | undefined;
  /** Drains started so far: a drain's release acts only if no later one began. */
  drains: number;
}

const ATTRIBUTE_OPS = new Set(['equals', 'in', 'notIn', 'spread']);
const MAX_FALLBACK_ROUNDS = 4;

const round6 = (n: number): number => Math.round(n * 1e6) / 1e6;

/** How often a warning that persists is said again. */
const WARN_EVERY_MS = 10 * 60_000;

/**
 * Runs a burst policy over a logical datacenter and its scheduler.
 *
 * The datacenter must turn running machines into agents of the scheduler (build it
 * with `scheduler`); burst machines live in the ad-hoc pools
 * `adhoc.burst-<target>`, journaled and tagged like any other, so a restarted
 * controller finds them again and `kumo apply` leaves them alone.
 *
 * @example
 * ```ts
 * const scheduler = new Scheduler({ executor: new LocalProcessExecutor() });
 * const dc = new LogicalDatacenter({ name: 'hybrid-1', store, providers, scheduler });
 * await dc.apply(spec);                        // base pools
 * const jobs = new JobsFramework(scheduler);   // its backlog is the demand signal
 * const burst = new BurstController({ dc, policy: spec.burst, spec });
 * burst.events.on((e) => console.log(describeBurstEvent(e)));
 * await burst.start();
 * ```
 */
export class BurstController {
  readonly policy: BurstPolicy;
  readonly events = new BurstEventHub();
  readonly #dc: LogicalDatacenter;
  readonly #scheduler: Scheduler;
  readonly #clock: Clock;
  readonly #adHoc: AdHocMachines;
  readonly #log: BurstLog | undefined;
  readonly #labels: Readonly<Record<string, string>>;
  readonly #ports: number;
  readonly #failureBackoffMs: number;
  readonly #catalogTtlMs: number;
  readonly #packing: 'best' | 'ffd';
  readonly #ranks: Map<string, number>;
  readonly #machines: Tracked[] = [];
  /** Candidate ids, or `provider:<name>`, skipped until the time given. */
  readonly #unavailable = new Map<string, number>();
  #chain: Promise<unknown> = Promise.resolve();
  #recovered: Promise<void> | undefined;
  #catalogs: { at: number; map: Map<string, ProviderCatalog> } | undefined;
  /** When each warning was last emitted: a warning that persists is said again every WARN_EVERY_MS. */
  readonly #warned = new Map<string, number>();
  #seq = 0;
  #lastScaleUp = -Infinity;
  #lastConsolidation = -Infinity;
  #lastSuggestion = '';
  #lastHeld = '';
  #running = false;
  /** Bumped by stop(): drain callbacks of an earlier run do nothing. */
  #generation = 0;
  #timer: { at: number; cancel: () => void } | undefined;
  #bootTimer: (() => void) | undefined;
  #wake = Infinity;

  constructor(options: BurstControllerOptions) {
    this.policy = parse(BurstPolicySchema, options.policy, 'burst policy', 'burst');
    this.#dc = options.dc;
    const scheduler = options.scheduler ?? options.dc.scheduler;
    if (scheduler === undefined)
      throw new ValidationError(
        'the burst controller needs a scheduler: give the datacenter one (new LogicalDatacenter({ …, scheduler }))',
        { issues: [{ path: 'scheduler', message: 'missing' }] },
      );
    this.#scheduler = scheduler;
    this.#clock = options.clock ?? systemClock;
    this.#log = options.log;
    this.#labels = options.spec?.labels ?? {};
    this.#ports = options.portsPerAgent ?? DEFAULT_PORTS_PER_AGENT;
    this.#failureBackoffMs = options.failureBackoffMs ?? 300_000;
    this.#catalogTtlMs = options.catalogTtlMs ?? 3_600_000;
    this.#packing = options.packing ?? 'best';
    this.#ranks = providerRanks(this.policy);
    const issues = burstPolicyIssues(this.policy, {
      pools: options.spec === undefined ? this.policy.basePools : Object.keys(options.spec.pools),
      providers: [...options.dc.providers.keys()],
    });
    if (issues.length > 0)
      throw new ValidationError(
        `invalid burst policy: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { issues },
      );
    this.#adHoc = new AdHocMachines(options.dc, { clock: this.#clock, maxAgeMs: 0 });
  }

  /** Finds the burst machines a previous run left, then decides every `interval`. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    try {
      await this.#serial(() => this.#recover());
    } catch (err) {
      // Not running: the caller may start again once what failed (the store, a cloud) is back.
      this.#running = false;
      throw err;
    }
    this.#armAt(this.#clock.now());
  }

  /**
   * Stops deciding. Burst machines stay and a new controller takes them over; machines
   * this one was draining are taken back into service, so nothing this controller
   * decided (a release once a drain ends) happens after it stopped.
   */
  async stop(): Promise<void> {
    this.#running = false;
    this.#generation++;
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#bootTimer?.();
    this.#bootTimer = undefined;
    await this.#chain.catch(() => undefined);
    // A decision that was under way may have drained machines after the first bump.
    this.#generation++;
    for (const m of this.#machines)
      if (m.state === 'draining') {
        if (this.#scheduler.agent(m.id) !== undefined) this.#scheduler.reactivateAgent(m.id);
        m.state = 'active';
      }
  }

  /** Makes one decision now (after any in progress): boot checks, scale-down, scale-up. */
  tick(): Promise<BurstTickReport> {
    return this.#serial(async () => {
      await this.#recover();
      return this.#decide();
    });
  }

  /** The burst machines held now, provisioning ones included. */
  machines(): BurstMachineInfo[] {
    return this.#machines.map((m) => ({
      ...this.#view(m),
      state: m.state,
      createdAt: m.createdAt,
      runningAt: m.runningAt,
      idleSince: m.idleSince,
    }));
  }

  /** What all burst machines cost together, USD per hour (never above the budget). */
  spendPerHour(): number {
    return round6(this.#machines.reduce((n, m) => n + m.pricePerHour, 0));
  }

  // --- the decision ----------------------------------------------------------------

  async #decide(): Promise<BurstTickReport> {
    const now = this.#clock.now();
    this.#wake = Infinity;
    const released: string[] = [];
    const drained: string[] = [];
    await this.#observe();
    await this.#scaleDown(now, drained, released);
    const up = await this.#scaleUp(now);
    // Room to spare is sought only when no work waits for room and nothing just changed.
    const quiet = up.waiting === 0 && up.launched.length === 0 && up.reactivated === 0;
    const cooled = now >= this.#lastScaleUp + this.policy.cooldown.scaleDown;
    if (quiet && cooled && this.policy.basePoolsFirst) this.#cordon(drained);
    if (quiet && now - this.#lastConsolidation >= this.policy.consolidation.interval) {
      this.#lastConsolidation = now;
      this.#consolidate(now, drained, cooled);
    }
    this.#armBootCheck();
    if (this.#running) this.#armAt(Math.min(now + this.policy.interval, this.#wake));
    return {
      at: now,
      launched: up.launched,
      drained,
      released,
      held: up.held,
      spendPerHour: this.spendPerHour(),
    };
  }

  /** Looks at machines on their way: running ones become agents, vanished ones are lost. */
  async #observe(): Promise<void> {
    for (const m of this.#machines.filter((x) => x.uncertain)) await this.#settleUncertain(m);
    const groups = new Set(
      this.#machines
        .filter((m) => m.state !== 'provisioning' && m.state !== 'releasing')
        .map((m) => burstGroup(m.target)),
    );
    const newlyRunning: Tracked[] = [];
    for (const group of groups) {
      let listed;
      try {
        listed = new Map((await this.#adHoc.list(group)).map((x) => [x.id, x]));
      } catch (err) {
        this.#warn(`cannot list burst machines of ${group}: ${errorMessage(err)}`);
        continue;
      }
      for (const m of this.#machines.filter((x) => burstGroup(x.target) === group)) {
        if (m.state === 'provisioning' || m.state === 'releasing') continue;
        const live = listed.get(m.id);
        if (
          live === undefined ||
          live.status === 'lost' ||
          live.state === 'terminated' ||
          live.state === 'error'
        ) {
          await this.#lose(
            m,
            live?.error ?? (live === undefined ? 'gone from state' : 'gone from the provider'),
          );
          continue;
        }
        if (live.pricePerHour !== undefined && live.pricePerHour > m.pricePerHour)
          m.pricePerHour = live.pricePerHour;
        if (m.state === 'booting' && live.state === 'running') {
          m.state = 'active';
          m.runningAt = this.#clock.now();
          newlyRunning.push(m);
        }
      }
    }
    if (newlyRunning.length === 0) return;
    await this.#dc.syncAgents();
    for (const m of newlyRunning) {
      this.#emit({
        type: 'burst.running',
        at: this.#clock.now(),
        id: m.id,
        provider: m.provider,
        bootS: (m.runningAt! - m.createdAt) / 1000,
      });
      if (this.#scheduler.agent(m.id) === undefined)
        this.#warn(
          `machine ${m.id} runs but is no agent of the scheduler; give the datacenter the scheduler (new LogicalDatacenter({ …, scheduler }))`,
        );
    }
  }

  async #lose(m: Tracked, reason: string): Promise<void> {
    if (this.#scheduler.agent(m.id) !== undefined) this.#scheduler.markAgentLost(m.id);
    this.#untrack(m);
    this.#emit({
      type: 'burst.lost',
      at: this.#clock.now(),
      id: m.id,
      provider: m.provider,
      reason,
    });
    try {
      // Deleting what is gone succeeds (provider rule 2) and drops it from state.
      await this.#adHoc.delete(burstGroup(m.target), m.id);
    } catch (err) {
      this.#warn(`cannot forget lost machine ${m.id}: ${errorMessage(err)}`);
    }
  }

  /** A create whose outcome was unknown: resume the journal, then look for the key's machine. */
  async #settleUncertain(m: Tracked): Promise<void> {
    try {
      await this.#adHoc.resume();
      const found = await this.#adHoc.get(burstGroup(m.target), m.key);
      if (found !== undefined) {
        m.id = found.id;
        m.uncertain = false;
        m.state = 'booting';
        this.#emit({ type: 'burst.provisioned', at: this.#clock.now(), machine: this.#view(m) });
        return;
      }
      const snapshot = await this.#dc.store.read();
      if (!snapshot.intents.some((i) => i.key === m.key)) this.#untrack(m);
    } catch (err) {
      this.#warn(`cannot settle the create of ${m.key} yet: ${errorMessage(err)}`);
    }
  }

  async #scaleDown(now: number, drained: string[], released: string[]): Promise<void> {
    for (const m of this.#machines.filter((x) => x.state === 'releasing'))
      if (await this.#release(m, 'released after an earlier failure')) released.push(m.id);
    const cooling = now < this.#lastScaleUp + this.policy.cooldown.scaleDown;
    if (cooling) this.#wakeAt(this.#lastScaleUp + this.policy.cooldown.scaleDown);
    for (const m of this.#machines.filter((x) => x.state === 'active')) {
      const agent = this.#scheduler.agent(m.id);
      if (agent === undefined || agent.status !== 'active') continue;
      if (agent.tasks > 0) {
        m.idleSince = undefined;
        continue;
      }
      // A task that came and went between two decisions counts: idle from its end.
      m.idleSince = Math.max(m.idleSince ?? now, agent.lastTaskAt ?? -Infinity);
      const due = m.idleSince + this.policy.idleFor;
      if (now < due) {
        this.#wakeAt(due);
        continue;
      }
      if (cooling) continue;
      const reason = `idle for ${formatDuration(now - m.idleSince)} (idleFor ${formatDuration(this.policy.idleFor)})`;
      this.#startDrain(m, reason, 0, this.policy.drainDeadline);
      drained.push(m.id);
      // No tasks: the drain completes at once, so the machine goes now.
      await Promise.resolve();
      if (await this.#release(m, reason)) released.push(m.id);
    }
  }

  /**
   * Drain notice through the scheduler: no new work goes to the machine; tasks still
   * running after `deadlineMs` are killed (never, without one). A machine with tasks is
   * released once drained.
   */
  #startDrain(m: Tracked, reason: string, tasks: number, deadlineMs: number | undefined): void {
    m.state = 'draining';
    const drain = ++m.drains;
    this.#emit({
      type: 'burst.drain',
      at: this.#clock.now(),
      id: m.id,
      provider: m.provider,
      reason,
      tasks,
      deadlineS: deadlineMs === undefined ? null : deadlineMs / 1000,
    });
    const drained = this.#scheduler.drainAgent(
      m.id,
      deadlineMs === undefined ? {} : { deadlineMs },
    );
    const generation = this.#generation;
    if (tasks > 0)
      drained.then(
        () =>
          void this.#serial(async () =>
            // Decisions queued before this one may have taken the machine back (and
            // drained it anew): only the latest drain, still on, releases it — and
            // never after the controller stopped.
            m.state === 'draining' && m.drains === drain && this.#generation === generation
              ? this.#release(m, reason)
              : false,
          ).catch(() => undefined),
        () => {
          // The drain was cancelled (taken back into service) or the scheduler closed.
          if (m.state === 'draining') m.state = 'active';
        },
      );
  }

  /**
   * Base pools first: while nothing waits that they cannot take, busy burst machines
   * take no new work and go once their tasks end (a drain without a deadline).
   */
  #cordon(drained: string[]): void {
    for (const m of this.#machines) {
      if (m.state !== 'active') continue;
      const agent = this.#scheduler.agent(m.id);
      if (agent === undefined || agent.status !== 'active' || agent.tasks === 0) continue;
      this.#startDrain(
        m,
        'base pools first: no work waits that the other machines cannot take; it takes no new work and goes when its tasks end',
        agent.tasks,
        undefined,
      );
      drained.push(m.id);
    }
  }

  /** Takes a draining machine back into service (waiting work fits on it). */
  #reactivate(id: string, now: number): void {
    const m = this.#machines.find((x) => x.id === id && x.state === 'draining');
    if (m === undefined || this.#scheduler.agent(id) === undefined) return;
    this.#scheduler.reactivateAgent(id);
    m.state = 'active';
    m.idleSince = undefined;
    this.#emit({
      type: 'burst.reactivated',
      at: now,
      id,
      provider: m.provider,
      reason: 'waiting work fits on it: taken back before buying anything',
    });
  }

  /** Removes the agent and deletes the machine (journaled). False when the delete failed (retried later). */
  async #release(m: Tracked, reason: string): Promise<boolean> {
    if (!this.#machines.includes(m)) return false;
    m.state = 'releasing';
    // The agent stays, drained, until the machine is gone: were it removed first, a
    // failed delete would leave a running machine that the next sync of agents makes
    // an agent again, which takes work that the retried release would then kill.
    if (this.#scheduler.agent(m.id)?.status === 'active')
      this.#scheduler.drainAgent(m.id).catch(() => undefined);
    try {
      await this.#adHoc.delete(burstGroup(m.target), m.id);
    } catch (err) {
      this.#warn(`cannot release ${m.id} yet (${errorMessage(err)}); retried at the next decision`);
      return false;
    }
    if (this.#scheduler.agent(m.id) !== undefined) this.#scheduler.removeAgent(m.id);
    this.#untrack(m);
    const now = this.#clock.now();
    const lifetimeS = (now - m.createdAt) / 1000;
    this.#emit({
      type: 'burst.released',
      at: now,
      id: m.id,
      provider: m.provider,
      reason,
      lifetimeS,
      costUsd: Math.round(((m.pricePerHour * lifetimeS) / 3600) * 1e6) / 1e6,
    });
    return true;
  }

  async #scaleUp(now: number): Promise<{
    launched: string[];
    held: BurstTickReport['held'];
    waiting: number;
    reactivated: number;
  }> {
    const launched: string[] = [];
    const demand = this.#scheduler.demand();
    if (demand.length === 0) {
      this.#lastHeld = '';
      return { launched, held: undefined, waiting: 0, reactivated: 0 };
    }
    const draining = this.#machines.filter((m) => m.state === 'draining').map((m) => m.id);
    const { residual, reused } = unplacedDemand(
      this.#scheduler,
      demand,
      this.#incoming(),
      draining,
    );
    // Work is back: machines on their way out take it before anything is bought.
    for (const id of reused) this.#reactivate(id, now);
    const reactivated = reused.size;
    const eligible: { item: DemandItem; left: number }[] = [];
    let waiting = 0;
    for (const r of residual) {
      if (r.left <= 0) continue;
      waiting += r.left;
      if (r.item.waitedMs >= this.policy.pendingFor) eligible.push(r);
      else this.#wakeAt(r.item.since + this.policy.pendingFor);
    }
    if (eligible.length === 0) return { launched, held: undefined, waiting, reactivated };
    const summaries = eligible.map((r) => demandSummary(r.item, r.left, now));
    if (now < this.#lastScaleUp + this.policy.cooldown.scaleUp) {
      const until = this.#lastScaleUp + this.policy.cooldown.scaleUp;
      this.#wakeAt(until);
      return {
        launched,
        held: this.#hold(
          'cooldown',
          `scale-up cooldown until ${formatDuration(until - now)} from now`,
          summaries,
        ),
        waiting,
        reactivated,
      };
    }
    const all = await this.#candidates();
    let items: PackItem[] = eligible.map((r, i) => ({
      key: `${r.item.frameworkId}/${r.item.key ?? i}`,
      request: { resources: r.item.resources, constraints: r.item.constraints },
      count: r.left,
      priority: r.item.priority,
    }));
    const itemDemand = new Map(items.map((it, i) => [it.key, summaries[i]!]));
    let held: BurstTickReport['held'];
    for (let round = 0; round < MAX_FALLBACK_ROUNDS && items.length > 0; round++) {
      const usable = this.#usable(all, items);
      const result = this.#pack(items, usable);
      if (result.machines.length === 0) {
        const u = result.unplaced[0];
        held = this.#hold(
          u?.reason ?? 'no-candidate',
          this.#holdMessage(result, usable.length),
          items.map((it) => itemDemand.get(it.key)!),
        );
        break;
      }
      const failed = await this.#provision(result, usable, items, itemDemand, round, now, launched);
      if (failed.length === 0) {
        if (result.unplaced.length > 0)
          held = this.#hold(
            result.unplaced[0]!.reason,
            this.#holdMessage(result, usable.length),
            result.unplaced.map((u) => itemDemand.get(u.key)!),
          );
        break;
      }
      // The machines that could not be made: their tasks are packed again elsewhere.
      const again = new Map<string, number>();
      for (const pm of failed)
        for (const [key, n] of pm.tasks) again.set(key, (again.get(key) ?? 0) + n);
      items = items
        .filter((it) => again.has(it.key))
        .map((it) => ({ ...it, count: again.get(it.key)! }));
    }
    if (launched.length > 0) {
      this.#lastScaleUp = now;
      this.#lastHeld = '';
    }
    return { launched, held, waiting, reactivated };
  }

  /** Packs in one go (`cheapest`), or provider by provider (`ordered`). */
  #pack(items: readonly PackItem[], candidates: readonly BurstCandidate[]): PackResult {
    return packByPreference(this.policy.preference.mode, items, candidates, this.#limits(), {
      domain: (attribute) => this.#scheduler.attributeValues(attribute),
      strategies: this.#packing,
    });
  }

  /**
   * Makes the packed machines: each is counted against the budget and limits before
   * its create is sent. Returns the machines that could not be made.
   */
  async #provision(
    result: PackResult,
    considered: readonly BurstCandidate[],
    items: readonly PackItem[],
    itemDemand: ReadonlyMap<string, DemandSummary>,
    round: number,
    now: number,
    launched: string[],
  ): Promise<PackedMachine[]> {
    const chosen = new Map<string, { c: BurstCandidate; count: number; tasks: number }>();
    for (const pm of result.machines) {
      const c = pm.candidate as BurstCandidate;
      const e = chosen.get(c.id) ?? { c, count: 0, tasks: 0 };
      e.count++;
      for (const n of pm.tasks.values()) e.tasks += n;
      chosen.set(c.id, e);
    }
    const tasks = items.reduce((n, it) => n + it.count, 0);
    this.#emit({
      type: 'burst.scale-up',
      at: now,
      reason:
        round === 0
          ? `${tasks} task(s) of ${items.length} kind(s) waited at least ${formatDuration(this.policy.pendingFor)} and fit on no free or incoming machine`
          : `fallback ${round}: ${tasks} task(s) whose machines could not be made`,
      demand: items.map((it) => ({ ...itemDemand.get(it.key)!, count: it.count })),
      considered: considered.length,
      candidates: cheapestCandidates(considered),
      chosen: [...chosen.values()].map(({ c, count, tasks: t }) => ({
        ...candidateSummary(c),
        target: c.target,
        count,
        tasks: t,
      })),
      pricePerHour: round6(result.pricePerHour),
      lowerBoundPerHour: round6(result.lowerBoundPerHour),
      strategy: result.strategy,
      strategies: result.strategies,
      budget: {
        spendPerHour: round6(this.spendPerHour() + result.pricePerHour),
        capPerHour: this.policy.budgetPerHour,
      },
      unplaced: result.unplaced,
    });
    // Reserve everything first: from here on these count against budget and limits.
    const planned = result.machines.map((pm) => {
      const c = pm.candidate as BurstCandidate;
      const key = `${burstGroup(c.target)}-${now.toString(36)}-${(++this.#seq).toString(36)}`;
      const m: Tracked = {
        key,
        id: key,
        target: c.target,
        provider: c.provider,
        size: c.size,
        zone: c.zone,
        spot: c.spot,
        pricePerHour: c.pricePerHour,
        resources: c.resources,
        attributes: c.attributes,
        state: 'provisioning',
        uncertain: false,
        createdAt: now,
        runningAt: undefined,
        idleSince: undefined,
        drains: 0,
      };
      this.#machines.push(m);
      return { pm, c, m };
    });
    const failed: PackedMachine[] = [];
    const blocked = new Set<string>();
    for (const { pm, c, m } of planned) {
      if (blocked.has(c.id) || this.#isUnavailable(c)) {
        this.#untrack(m);
        failed.push(pm);
        continue;
      }
      try {
        const made = await this.#adHoc.create({
          group: burstGroup(c.target),
          provider: c.provider,
          key: m.key,
          spec: c.spec,
        });
        m.id = made.id;
        // Running or not, the next look (boot check) makes it an agent or finds it failed.
        m.state = 'booting';
        if (made.pricePerHour !== undefined && made.pricePerHour > m.pricePerHour)
          m.pricePerHour = made.pricePerHour;
        launched.push(m.id);
        this.#emit({ type: 'burst.provisioned', at: this.#clock.now(), machine: this.#view(m) });
      } catch (err) {
        const code = isKumoError(err) ? err.code : 'Error';
        let fallback: string;
        if (!isDefinitive(err)) {
          // The cloud may have acted: keep counting it, and find out at the next look.
          m.uncertain = true;
          fallback =
            'the outcome is unknown: the create is resumed with the same key at the next decision';
        } else {
          this.#untrack(m);
          failed.push(pm);
          if (code === 'InsufficientCapacity') {
            this.#unavailable.set(c.id, this.#clock.now() + this.#failureBackoffMs);
            blocked.add(c.id);
            fallback = `${c.size} in ${c.zone ?? 'its zone'} skipped for ${formatDuration(this.#failureBackoffMs)}; next zone or provider`;
          } else if (code === 'QuotaExceeded') {
            this.#unavailable.set(
              `provider:${c.provider}`,
              this.#clock.now() + this.#failureBackoffMs,
            );
            for (const o of considered) if (o.provider === c.provider) blocked.add(o.id);
            fallback = `provider ${c.provider} skipped for ${formatDuration(this.#failureBackoffMs)}; next provider`;
          } else {
            this.#unavailable.set(c.id, this.#clock.now() + this.#failureBackoffMs);
            blocked.add(c.id);
            fallback = `${c.id} skipped for ${formatDuration(this.#failureBackoffMs)}`;
          }
        }
        this.#emit({
          type: 'burst.provision-failed',
          at: this.#clock.now(),
          candidate: c.id,
          provider: c.provider,
          error: { code, message: errorMessage(err) },
          fallback,
        });
      }
    }
    return failed;
  }

  // --- consolidation -----------------------------------------------------------------

  /**
   * Would the burst machines' tasks fit on fewer or cheaper machines? Said as an event
   * when it saves at least `minSavingPercent`; with `act`, the machines that could be
   * emptied are drained: tasks of restartable jobs move at once (the jobs framework
   * answers the drain notice), the rest run to the deadline and are killed there.
   */
  #consolidate(now: number, drained: string[], cooled: boolean): void {
    const withTasks = this.#machines.filter((m) => {
      if (m.state !== 'active' && m.state !== 'draining') return false;
      return (this.#scheduler.agent(m.id)?.tasks ?? 0) > 0;
    });
    // The whole scheduler's copy, only when some burst machine has tasks to look at.
    const tasks = withTasks.length === 0 ? [] : this.#scheduler.snapshot().tasks;
    const maxLoss = this.policy.consolidation.maxRestartLoss;
    // Machines with a task older than maxRestartLoss stay as they are (and keep their room).
    const tooOld = new Set<string>();
    if (maxLoss !== undefined)
      for (const t of tasks) if (now - t.launchedAt > maxLoss) tooOld.add(t.agentId);
    const busy = withTasks.filter((m) => !tooOld.has(m.id));
    if (busy.length === 0) {
      this.#lastSuggestion = '';
      return;
    }
    const ids = new Set(busy.map((m) => m.id));
    const byAgent = new Map<string, TaskShape[]>();
    for (const t of tasks) {
      if (!ids.has(t.agentId)) continue;
      const list = byAgent.get(t.agentId) ?? [];
      list.push({
        ...t.resources,
        ports: t.ports.reduce((n, [b, e]) => n + e - b + 1, 0),
        constraints: t.constraints,
      });
      byAgent.set(t.agentId, list);
    }
    // Idle burst machines are on their way out: their room does not count.
    const leaving = new Set(
      this.#machines
        .filter((m) => !ids.has(m.id) && this.#scheduler.agent(m.id)?.tasks === 0)
        .map((m) => m.id),
    );
    const rooms: AgentView[] = this.#scheduler
      .agents()
      .filter((a) => a.status === 'active' && !leaving.has(a.id))
      .map((a) => this.#scheduler.agentView(a.id));
    const plan = planConsolidation({
      machines: busy.map((m) => ({
        id: m.id,
        pricePerHour: m.pricePerHour,
        tasks: byAgent.get(m.id) ?? [],
      })),
      rooms,
      candidates: this.#catalogs === undefined ? [] : pruneDominated(this.#candidatesNow()),
      perGroup: new Map(this.policy.targets.map((t) => [t.name, t.maxMachines])),
    });
    // A share of the whole burst spend (machines maxRestartLoss left out count too).
    const worth = (this.spendPerHour() * this.policy.consolidation.minSavingPercent) / 100;
    const repackSaving = plan.currentPerHour - plan.repackedPerHour;
    if (plan.savingPerHour < worth - 1e-9 && repackSaving < worth - 1e-9) {
      this.#lastSuggestion = '';
      return;
    }
    const key = `${plan.removable.join(',')}|${round6(plan.repackedPerHour)}`;
    if (key === this.#lastSuggestion) return;
    this.#lastSuggestion = key;
    const act = this.policy.consolidation.act && plan.removable.length > 0 && cooled;
    this.#emit({
      type: 'burst.consolidation',
      at: now,
      message:
        `${plan.tasks} task(s) on ${busy.length} burst machine(s) cost $${plan.currentPerHour.toFixed(4)}/h; ` +
        (plan.removable.length > 0
          ? `${plan.removable.length} machine(s) could be emptied into free room elsewhere (saves $${plan.savingPerHour.toFixed(4)}/h)`
          : 'no machine can be emptied into the others') +
        `; packed afresh they would cost $${plan.repackedPerHour.toFixed(4)}/h`,
      machines: plan.removable,
      tasks: plan.tasks,
      currentPerHour: round6(plan.currentPerHour),
      repackedPerHour: round6(plan.repackedPerHour),
      savingPerHour: round6(plan.savingPerHour),
      acted: act,
    });
    if (!act) return;
    for (const id of plan.removable) {
      const m = this.#machines.find((x) => x.id === id)!;
      this.#startDrain(
        m,
        'consolidation: its tasks fit in free room elsewhere',
        byAgent.get(id)?.length ?? 0,
        this.policy.drainDeadline,
      );
      drained.push(id);
    }
  }

  // --- helpers -------------------------------------------------------------------

  async #recover(): Promise<void> {
    // A failed recovery is forgotten, so the next start or tick tries again.
    this.#recovered ??= this.#recoverOnce().catch((err: unknown) => {
      this.#recovered = undefined;
      throw err;
    });
    return this.#recovered;
  }

  async #recoverOnce(): Promise<void> {
    // dc.machines() opens the store; the snapshot then shows the journal too.
    await this.#dc.machines();
    const snapshot = await this.#dc.store.read();
    const burstIds = new Set(
      snapshot.machines.filter((r) => targetOfPool(r.pool) !== undefined).map((r) => r.id),
    );
    const unfinished = snapshot.intents.some((i) =>
      i.kind === 'create'
        ? targetOfPool(i.pool ?? '') !== undefined
        : (i.machineIds ?? []).some((id) => burstIds.has(id)),
    );
    if (unfinished)
      try {
        await this.#adHoc.resume();
      } catch (err) {
        // A delete that fails again is retried with the machine's release below.
        this.#warn(`cannot finish the burst work a previous run left yet: ${errorMessage(err)}`);
      }
    // A machine being deleted stays in state until its group is listed without it
    // (resuming a delete leaves its record as it is, so the snapshot above tells).
    const deleting = new Set(
      snapshot.machines.flatMap((r) => {
        const target = r.status === 'deleting' ? targetOfPool(r.pool) : undefined;
        return target === undefined ? [] : [burstGroup(target)];
      }),
    );
    for (const group of deleting)
      await this.#adHoc.list(group).catch((err: unknown) => {
        this.#warn(`cannot list burst machines of ${group}: ${errorMessage(err)}`);
      });
    const machines = await this.#dc.machines({ status: ['present', 'deleting'] });
    let running = 0;
    for (const m of machines) {
      const target = targetOfPool(m.pool);
      if (target === undefined || this.#machines.some((t) => t.id === m.id)) continue;
      // Being deleted: still billed and counted against the budget until it goes.
      const releasing = m.status === 'deleting';
      if (!releasing && (m.state === 'terminated' || m.state === 'error')) continue;
      const isRunning = m.state === 'running';
      running += isRunning ? 1 : 0;
      const created = Date.parse(m.createdAt);
      this.#machines.push({
        key: m.labels['kumo-key'] ?? m.id,
        id: m.id,
        target,
        provider: m.provider,
        size: m.size,
        zone: m.zone,
        spot: m.spot,
        pricePerHour: m.pricePerHour ?? 0,
        resources: m.resources,
        attributes: {
          provider: m.provider,
          region: m.region,
          zone: m.zone,
          pool: m.pool,
          spot: m.spot,
          ...(m.pricePerHour === undefined ? {} : { pricePerHour: m.pricePerHour }),
          labels: {},
        },
        state: releasing ? 'releasing' : isRunning ? 'active' : 'booting',
        uncertain: false,
        createdAt: Number.isFinite(created) ? created : this.#clock.now(),
        runningAt: isRunning ? this.#clock.now() : undefined,
        idleSince: undefined,
        drains: 0,
      });
    }
    if (running > 0) await this.#dc.syncAgents();
  }

  async #candidates(): Promise<BurstCandidate[]> {
    const now = this.#clock.now();
    if (this.#catalogs === undefined || now - this.#catalogs.at >= this.#catalogTtlMs) {
      const map = new Map<string, ProviderCatalog>();
      for (const name of new Set(this.policy.targets.map((t) => t.provider))) {
        const provider = this.#dc.providers.get(name)!;
        try {
          const spot = this.policy.targets.some((t) => t.provider === name && t.spot);
          map.set(name, { region: provider.region, sizes: await provider.listSizes({ spot }) });
        } catch (err) {
          this.#warn(`cannot list the sizes of ${name}: ${errorMessage(err)}`);
          const old = this.#catalogs?.map.get(name);
          if (old !== undefined) map.set(name, old);
        }
      }
      this.#catalogs = { at: now, map };
    }
    return this.#candidatesNow();
  }

  #candidatesNow(): BurstCandidate[] {
    const { candidates, problems } = buildCandidates(
      this.policy,
      this.#catalogs?.map ?? new Map(),
      {
        dcLabels: this.#labels,
        portsPerAgent: this.#ports,
        ranks: this.#ranks,
      },
    );
    for (const p of problems) this.#warn(`burst target ${p.target}: ${p.message}`);
    return candidates;
  }

  #isUnavailable(c: BurstCandidate): boolean {
    const now = this.#clock.now();
    const until = Math.max(
      this.#unavailable.get(c.id) ?? -Infinity,
      this.#unavailable.get(`provider:${c.provider}`) ?? -Infinity,
    );
    return until > now;
  }

  /**
   * The candidates worth packing onto: those not failing lately; without attribute
   * constraints one zone per size (zones are alike then), and no machine another of the
   * same target beats in every resource at no higher price (spot beats on-demand).
   */
  #usable(all: readonly BurstCandidate[], items: readonly PackItem[]): BurstCandidate[] {
    const ok = all.filter((c) => !this.#isUnavailable(c));
    const constrained = items.some((it) =>
      (it.request.constraints ?? []).some((c) => ATTRIBUTE_OPS.has(c.op)),
    );
    if (constrained) return ok;
    const firstZone = new Map<string, BurstCandidate>();
    for (const c of ok) if (!firstZone.has(c.offering)) firstZone.set(c.offering, c);
    const byTarget = new Map<string, BurstCandidate[]>();
    for (const c of firstZone.values())
      byTarget.set(c.target, [...(byTarget.get(c.target) ?? []), c]);
    return [...byTarget.values()].flatMap((list) => pruneDominated(list));
  }

  #limits(): { budgetPerHour: number; maxMachines: number; perGroup: Map<string, number> } {
    const perGroup = new Map<string, number>();
    for (const t of this.policy.targets)
      perGroup.set(
        t.name,
        t.maxMachines - this.#machines.filter((m) => m.target === t.name).length,
      );
    return {
      budgetPerHour: this.policy.budgetPerHour - this.spendPerHour(),
      maxMachines: (this.policy.maxMachines ?? Infinity) - this.#machines.length,
      perGroup,
    };
  }

  #incoming(): IncomingMachine[] {
    return this.#machines
      .filter(
        (m) =>
          m.state === 'provisioning' ||
          m.state === 'booting' ||
          (m.state === 'active' && this.#scheduler.agent(m.id) === undefined),
      )
      .map((m) => ({
        id: m.id,
        attributes: m.attributes,
        capacity: { ...m.resources, ports: this.#ports },
      }));
  }

  #holdMessage(result: PackResult, considered: number): string {
    const parts = result.unplaced.map((u) => {
      const why =
        u.reason === 'budget'
          ? `the budget of $${this.policy.budgetPerHour}/h is reached ($${this.spendPerHour().toFixed(4)}/h spent)`
          : u.reason === 'max-machines'
            ? 'every target that fits is at its maxMachines'
            : `no size of any burst target fits one task (${considered} candidate(s))`;
      return `${u.count} task(s) of ${u.key}: ${why}`;
    });
    return parts.join('; ') || 'nothing to buy';
  }

  #hold(
    reason: BurstHoldReason,
    message: string,
    demand: readonly DemandSummary[],
  ): BurstTickReport['held'] {
    const key = `${reason}|${message.replace(/\$[\d.]+\/h spent/g, '')}`;
    if (key !== this.#lastHeld) {
      this.#lastHeld = key;
      this.#emit({ type: 'burst.held', at: this.#clock.now(), reason, message, demand });
    }
    return { reason, message };
  }

  #view(m: Tracked): BurstMachineView {
    return {
      id: m.id,
      target: m.target,
      provider: m.provider,
      size: m.size,
      ...(m.zone === undefined ? {} : { zone: m.zone }),
      spot: m.spot,
      pricePerHour: m.pricePerHour,
    };
  }

  #untrack(m: Tracked): void {
    const i = this.#machines.indexOf(m);
    if (i >= 0) this.#machines.splice(i, 1);
  }

  #emit(event: BurstEvent): void {
    this.events.emit(event);
    try {
      this.#log?.append(event);
    } catch {
      // NOTE: a full disk must not stop decisions; the event hub still has it.
    }
  }

  #warn(message: string): void {
    const now = this.#clock.now();
    const last = this.#warned.get(message);
    if (last !== undefined && now - last < WARN_EVERY_MS) return;
    // Messages name machines and errors: forget the stale ones so the map stays small.
    if (this.#warned.size >= 1000)
      for (const [m, at] of this.#warned) if (now - at >= WARN_EVERY_MS) this.#warned.delete(m);
    this.#warned.set(message, now);
    this.#emit({ type: 'burst.warning', at: now, message });
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  #wakeAt(at: number): void {
    if (at > this.#clock.now() && at < this.#wake) this.#wake = at;
  }

  #armAt(at: number): void {
    if (!this.#running) return;
    if (this.#timer !== undefined && this.#timer.at <= at) return;
    this.#timer?.cancel();
    const cancel = this.#clock.schedule(Math.max(0, at - this.#clock.now()), () => {
      this.#timer = undefined;
      this.tick().catch((err: unknown) => {
        this.#warn(`a burst decision failed: ${errorMessage(err)}`);
        this.#armAt(this.#clock.now() + this.policy.interval);
      });
    });
    this.#timer = { at, cancel };
  }

  /** Booting machines are looked at every `bootCheck`, so they take work once running. */
  #armBootCheck(): void {
    if (!this.#running || this.#bootTimer !== undefined) return;
    if (!this.#machines.some((m) => m.state === 'booting' || m.uncertain)) return;
    this.#bootTimer = this.#clock.schedule(this.policy.bootCheck, () => {
      this.#bootTimer = undefined;
      this.#serial(() => this.#observe())
        .catch((err: unknown) => this.#warn(`a boot check failed: ${errorMessage(err)}`))
        .finally(() => this.#armBootCheck());
    });
  }
}
