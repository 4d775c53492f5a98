import { z } from 'zod';
import {
  Conflict,
  parse,
  systemClock,
  TAG_KEY,
  TAG_POOL,
  ValidationError,
  type Clock,
  type Issue,
  type Machine,
  type Provider,
} from '../core/index.js';
import { toAgent, type AgentSink } from './agents.js';
import { executePlan, TAG_SPEC, type ExecuteOptions } from './apply.js';
import { EventHub } from './events.js';
import { stableStringify } from './hashing.js';
import { fanOut, schedulerAgents } from './scheduler-agents.js';
import type { Scheduler } from '../scheduler/index.js';
import {
  capacityOf,
  queryMachines,
  type CapacityReport,
  type InventoryMachine,
  type MachineQuery,
} from './inventory.js';
import { computePlan } from './plan.js';
import type { ApplyResult, Plan } from './plan-types.js';
import { observe, type DriftItem, type Observation } from './refresh.js';
import {
  DatacenterSpecSchema,
  resolvePools,
  type DatacenterSpec,
  type DatacenterSpecInput,
} from './spec.js';
import { currentHolder } from './state/lock.js';
import type {
  LockHandle,
  LockHolder,
  MachineRecord,
  StateSnapshot,
  StateStore,
} from './state/state-store.js';

export interface LogicalDatacenterOptions {
  /** The datacenter's name: every machine it makes is tagged `kumo-dc=<name>`. */
  readonly name: string;
  readonly store: StateStore;
  /** Providers by the name pools refer to them with. */
  readonly providers: Readonly<Record<string, Provider>>;
  /** Told when machines become running, leave or are lost (the scheduler seam). */
  readonly agents?: AgentSink;
  /**
   * A scheduler whose agents are the datacenter's running machines (registered on
   * first use and kept in step); available as `dc.scheduler`.
   */
  readonly scheduler?: Scheduler;
  readonly clock?: Clock;
}

export interface PlanOptions {
  /** Delete orphans (kumo-tagged machines of this datacenter that state does not know). */
  readonly prune?: boolean;
  /** Default for pools that do not set `createBeforeDestroy`. */
  readonly createBeforeDestroy?: boolean;
  readonly signal?: AbortSignal;
}

/** Apply's internal variant: a destroy says so in its steps. */
interface InternalPlanOptions extends PlanOptions {
  readonly destroy?: boolean;
}

export interface LockingOptions {
  /** Wait up to this long for another run's lock. Default 0: fail at once, naming the holder. */
  readonly lockTimeoutMs?: number;
  /** What the lock holder is, shown to others (`kumo apply`). Default `sdk`. */
  readonly command?: string;
  /** Stops a wait for the lock (and the run, where it takes one). */
  readonly signal?: AbortSignal;
}

export interface CheckOptions {
  /**
   * Called with the plan apply made, under the state's lock and before anything is
   * recorded or changed; a throw stops the apply there. Lets a caller vet the plan
   * (sizes, images, a policy) without reading every cloud a second time.
   */
  readonly check?: (plan: Plan) => Promise<void> | void;
}

export type ApplyOptions = PlanOptions & ExecuteOptions & LockingOptions & CheckOptions;

export interface RefreshReport {
  readonly machines: number;
  readonly drift: readonly DriftItem[];
  readonly orphans: readonly Machine[];
}

export interface PoolStatus {
  readonly name: string;
  readonly provider: string;
  /** Declared count (or `min..max`) when a spec was given. */
  readonly desired?: string;
  readonly machines: number;
  readonly byState: CapacityReport['byState'];
  readonly running: CapacityReport['running'];
  readonly pricePerHour: number;
}

export interface StatusReport {
  readonly dc: string;
  readonly location: string;
  readonly serial: number;
  readonly lock: LockHolder | undefined;
  readonly pools: readonly PoolStatus[];
  readonly networks: readonly { provider: string; name: string; id: string; status: string }[];
  readonly pendingIntents: number;
  readonly capacity: CapacityReport;
  /** Present when the status was taken with a refresh. */
  readonly drift?: readonly DriftItem[];
  readonly orphans?: readonly Machine[];
}

const PlanFileSchema = z
  .object({
    format: z.literal('kumo-plan/1', { error: 'not a kumo plan (format must be kumo-plan/1)' }),
    dc: z.string().min(1),
    lineage: z.string(),
    serial: z.number().int().nonnegative(),
    spec: z.unknown(),
    prune: z.boolean(),
    // Absent from plans saved before it was recorded.
    createBeforeDestroy: z.boolean().optional(),
    steps: z.array(z.unknown()),
  })
  .loose();

function isPlanInput(value: unknown): value is { format: unknown } {
  return typeof value === 'object' && value !== null && 'format' in value;
}

/**
 * Machines from many providers as one datacenter, kept converged on a declared spec.
 *
 * @example
 * ```ts
 * import { LogicalDatacenter, sqliteStore } from 'kumo';
 * import { sim } from 'kumo/sim';
 *
 * const dc = new LogicalDatacenter({ name: 'hybrid-1', store: sqliteStore('.kumo/state.db'), providers: { onprem: sim({ name: 'onprem' }) } });
 * dc.events.on((e) => console.log(e.type));
 * const { summary } = await dc.apply({ pools: { web: { provider: 'onprem', count: 3, machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' } } } });
 * console.log(summary.created, await dc.capacity());
 * ```
 */
export class LogicalDatacenter {
  readonly name: string;
  readonly store: StateStore;
  readonly events = new EventHub();
  readonly #providers: ReadonlyMap<string, Provider>;
  readonly #agents: AgentSink | undefined;
  /** The scheduler whose agents are this datacenter's running machines, when one was given. */
  readonly scheduler: Scheduler | undefined;
  readonly #clock: Clock;
  #opened: Promise<void> | undefined;

  constructor(options: LogicalDatacenterOptions) {
    this.name = parse(
      z
        .string()
        .regex(
          /^[a-z][a-z0-9-]{0,40}$/,
          'the datacenter name is 1–41 lowercase letters, digits and "-", starting with a letter',
        ),
      options.name,
      'datacenter name',
      'name',
    );
    this.store = options.store;
    this.#providers = new Map(Object.entries(options.providers));
    this.scheduler = options.scheduler;
    const sinks = [
      ...(options.scheduler ? [schedulerAgents(options.scheduler)] : []),
      ...(options.agents ? [options.agents] : []),
    ];
    this.#agents = sinks.length === 0 ? undefined : sinks.length === 1 ? sinks[0] : fanOut(sinks);
    this.#clock = options.clock ?? systemClock;
  }

  /** The registered providers, by name. */
  get providers(): ReadonlyMap<string, Provider> {
    return this.#providers;
  }

  /**
   * What apply would do: refreshes from the providers (without writing) and diffs.
   * @throws ValidationError for a bad spec or a provider that is not registered.
   */
  async plan(spec: DatacenterSpecInput, options: PlanOptions = {}): Promise<Plan> {
    const desired = this.#checkSpec(spec);
    const snapshot = await this.#read();
    this.#checkState(snapshot);
    const observation = await observe(this.name, snapshot, this.#providers, options.signal);
    return this.#plan(desired, observation, options);
  }

  /**
   * Converges the datacenter on `spec` (refresh, plan, execute), or executes a saved
   * plan after checking that neither state nor the providers moved since it was made.
   * Resumes whatever an interrupted apply journaled. Failed steps do not stop the
   * others; see `summary.ok` and `summary.failed`.
   *
   * @throws Conflict when the state is locked by another run, or a saved plan is stale.
   */
  async apply(input: DatacenterSpecInput | Plan, options: ApplyOptions = {}): Promise<ApplyResult> {
    return this.#apply(input, options);
  }

  /** What destroy would do (a plan deleting everything kumo made here, orphans included). */
  async planDestroy(options: Omit<PlanOptions, 'prune'> = {}): Promise<Plan> {
    const snapshot = await this.#read();
    this.#checkState(snapshot);
    const observation = await observe(this.name, snapshot, this.#providers, options.signal, true);
    return this.#plan(this.#checkSpec({}), observation, { ...options, prune: true, destroy: true });
  }

  async #apply(
    input: DatacenterSpecInput | Plan,
    options: ApplyOptions & { destroy?: boolean },
  ): Promise<ApplyResult> {
    const saved = isPlanInput(input) ? this.#checkPlanFile(input) : undefined;
    const desired = saved !== undefined ? this.#checkSpec(saved.spec) : this.#checkSpec(input);
    const prune = saved?.prune ?? options.prune ?? false;
    // A saved plan is applied as it was made, so its steps are planned again alike.
    const createBeforeDestroy = saved?.createBeforeDestroy ?? options.createBeforeDestroy;
    return this.#locked(options.command ?? 'sdk apply', options, async () => {
      let snapshot = await this.#read();
      this.#checkState(snapshot);
      if (saved !== undefined) {
        if (saved.lineage !== snapshot.lineage || saved.dc !== this.name)
          throw new Conflict(
            `the plan was made for another state (datacenter ${saved.dc}); run kumo plan again`,
          );
        if (saved.serial !== snapshot.serial)
          throw new Conflict(
            `state has moved since the plan was made (serial ${saved.serial}, now ${snapshot.serial}); run kumo plan again`,
          );
      }
      const observation = await observe(
        this.name,
        snapshot,
        this.#providers,
        options.signal,
        options.destroy === true,
      );
      const plan = this.#plan(desired, observation, {
        ...options,
        prune,
        ...(createBeforeDestroy === undefined ? {} : { createBeforeDestroy }),
      });
      if (saved !== undefined && stableStringify(plan.steps) !== stableStringify(saved.steps))
        throw new Conflict(
          'the providers changed since the plan was made (a fresh plan differs from the saved one); run kumo plan again',
        );
      await options.check?.(plan);
      snapshot = await this.#record(observation);
      // Keys come from the serial the plan was made at, so the saved plan and the fresh one agree.
      const summary = await executePlan(
        this.#context(),
        { ...plan, serial: plan.serial },
        snapshot,
        { ...options, destroying: options.destroy === true },
      );
      return { plan, summary };
    });
  }

  /** Deletes everything kumo made in this datacenter (orphans included), networks last. */
  async destroy(options: Omit<ApplyOptions, 'prune'> = {}): Promise<ApplyResult> {
    return this.#apply(
      {},
      {
        ...options,
        prune: true,
        destroy: true,
        waitForDeletes: true,
        command: options.command ?? 'sdk destroy',
      },
    );
  }

  /** Reads the providers, records what changed (drift) and reports orphans. */
  async refresh(options: LockingOptions & { signal?: AbortSignal } = {}): Promise<RefreshReport> {
    return this.#locked(options.command ?? 'sdk refresh', options, async () => {
      const snapshot = await this.#read();
      const observation = await observe(this.name, snapshot, this.#providers, options.signal);
      await this.#record(observation);
      return {
        machines: observation.listed,
        drift: observation.drift,
        orphans: observation.orphans,
      };
    });
  }

  /**
   * Takes orphans into state (all, or those whose id or provider id is given): they keep
   * their pool and spec tags, so machines that match their pool's spec are kept.
   * @throws ValidationError naming ids that are not orphans.
   */
  async adopt(
    ids?: readonly string[],
    options: LockingOptions & { signal?: AbortSignal } = {},
  ): Promise<InventoryMachine[]> {
    return this.#locked(options.command ?? 'sdk adopt', options, async () => {
      const snapshot = await this.#read();
      const observation = await observe(this.name, snapshot, this.#providers, options.signal);
      const chosen =
        ids === undefined
          ? observation.orphans
          : observation.orphans.filter((m) => ids.includes(m.id) || ids.includes(m.providerId));
      if (ids !== undefined) {
        const missing = ids.filter((id) => !chosen.some((m) => m.id === id || m.providerId === id));
        if (missing.length > 0)
          throw new ValidationError(
            `not orphans of datacenter ${this.name}: ${missing.join(', ')}`,
            {
              issues: missing.map((id) => ({
                path: 'ids',
                message: `${id} is not an orphan (kumo refresh lists them)`,
              })),
            },
          );
      }
      const now = new Date(this.#clock.now()).toISOString();
      const records: MachineRecord[] = chosen.map((m) => ({
        id: m.id,
        pool: m.labels[TAG_POOL] ?? 'adopted',
        provider: m.provider,
        providerId: m.providerId,
        key: m.labels[TAG_KEY] ?? 'adopted',
        specHash: m.labels[TAG_SPEC] ?? 'adopted',
        status: 'present',
        machine: m,
        adopted: true,
        updatedAt: now,
      }));
      await this.store.commit([
        ...observation.mutations,
        ...records.map((record) => ({ op: 'machine.put' as const, record })),
      ]);
      for (const r of records) {
        this.events.emit({ type: 'machine.adopted', pool: r.pool, machine: r.machine });
        if (r.machine.state === 'running') this.#agents?.machineRunning(toAgent(r.pool, r.machine));
      }
      return queryMachines(records);
    });
  }

  /** Machines in state, filtered by pool, provider, zone, labels, state. */
  async machines(query: MachineQuery = {}): Promise<InventoryMachine[]> {
    return queryMachines((await this.#read()).machines, query);
  }

  /** Capacity totals (machines by state, resources, price per hour), overall and by pool and provider. */
  async capacity(query: MachineQuery = {}): Promise<CapacityReport> {
    return capacityOf(await this.machines(query));
  }

  /** Pools, networks, the lock and the journal; with `refresh`, live drift and orphans (nothing is written). */
  async status(
    options: { spec?: DatacenterSpecInput; refresh?: boolean; signal?: AbortSignal } = {},
  ): Promise<StatusReport> {
    const desired = options.spec === undefined ? undefined : this.#checkSpec(options.spec);
    let snapshot = await this.#read();
    let observation: Observation | undefined;
    if (options.refresh === true) {
      observation = await observe(this.name, snapshot, this.#providers, options.signal);
      snapshot = observation.snapshot;
    }
    const machines = queryMachines(snapshot.machines);
    const capacity = capacityOf(machines);
    const declared = desired === undefined ? [] : resolvePools(desired);
    const names = [
      ...new Set([...declared.map((p) => p.name), ...machines.map((m) => m.pool)]),
    ].sort();
    const pools: PoolStatus[] = names.map((name) => {
      const decl = declared.find((p) => p.name === name);
      const c = capacity.byPool[name];
      return {
        name,
        provider: decl?.provider ?? machines.find((m) => m.pool === name)?.provider ?? '?',
        ...(decl === undefined
          ? desired === undefined
            ? {}
            : { desired: '0 (not declared)' }
          : {
              desired: decl.count !== undefined ? String(decl.count) : `${decl.min}..${decl.max}`,
            }),
        machines: c?.machines ?? 0,
        byState: c?.byState ?? {},
        running: c?.running ?? { cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 },
        pricePerHour: c?.pricePerHour ?? 0,
      };
    });
    return {
      dc: this.name,
      location: this.store.location,
      serial: snapshot.serial,
      lock: await this.store.lockHolder(),
      pools,
      networks: snapshot.networks.map((n) => ({
        provider: n.provider,
        name: n.name,
        id: n.network.id,
        status: n.status,
      })),
      pendingIntents: snapshot.intents.length,
      capacity,
      ...(observation === undefined
        ? {}
        : { drift: observation.drift, orphans: observation.orphans }),
    };
  }

  /** Tells the agent sink about every running machine (after attaching a scheduler). Returns how many. */
  async syncAgents(): Promise<number> {
    if (this.#agents === undefined) return 0;
    const running = queryMachines((await this.#read()).machines, {
      state: 'running',
      status: 'present',
    });
    for (const m of running) this.#agents.machineRunning(toAgent(m.pool, m));
    return running.length;
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  // --- internals ----------------------------------------------------------------------

  async #read(): Promise<StateSnapshot> {
    await this.#open();
    return this.store.read();
  }

  /** Opens the store once; machines already running then become agents. */
  #open(): Promise<void> {
    this.#opened ??= this.store.open(this.name).then(async () => {
      if (this.#agents === undefined) return;
      const running = queryMachines((await this.store.read()).machines, {
        state: 'running',
        status: 'present',
      });
      for (const m of running) this.#agents.machineRunning(toAgent(m.pool, m));
    });
    return this.#opened;
  }

  async #locked<T>(command: string, options: LockingOptions, fn: () => Promise<T>): Promise<T> {
    await this.#open();
    const lock: LockHandle = await this.store.lock(currentHolder(command), {
      timeoutMs: options.lockTimeoutMs ?? 0,
      onWait: (holder) => this.events.emit({ type: 'lock.waiting', holder }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    if (lock.broke !== undefined) this.events.emit({ type: 'lock.broken', holder: lock.broke });
    try {
      return await fn();
    } finally {
      await lock.release();
    }
  }

  #context(): Parameters<typeof executePlan>[0] {
    return {
      dc: this.name,
      store: this.store,
      providers: this.#providers,
      events: this.events,
      agents: this.#agents,
      clock: this.#clock,
    };
  }

  #checkSpec(input: unknown): DatacenterSpec {
    const spec = parse(DatacenterSpecSchema, input, 'datacenter spec');
    const issues: Issue[] = [];
    const known = [...this.#providers.keys()];
    const check = (provider: string, path: string): void => {
      if (!this.#providers.has(provider))
        issues.push({
          path,
          message: `provider "${provider}" is not registered (registered: ${known.join(', ') || 'none'})`,
        });
    };
    for (const [name, pool] of Object.entries(spec.pools))
      check(pool.provider, `pools.${name}.provider`);
    for (const [name, net] of Object.entries(spec.networks))
      check(net.provider, `networks.${name}.provider`);
    if (issues.length > 0)
      throw new ValidationError(
        `invalid datacenter spec: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
        { issues },
      );
    return spec;
  }

  #checkPlanFile(input: unknown): z.output<typeof PlanFileSchema> {
    return parse(PlanFileSchema, input, 'plan');
  }

  /** State naming providers that are not registered cannot be converged: say so rather than guess. */
  #checkState(snapshot: StateSnapshot): void {
    const missing = new Map<string, number>();
    for (const r of snapshot.machines)
      if (!this.#providers.has(r.provider))
        missing.set(r.provider, (missing.get(r.provider) ?? 0) + 1);
    for (const n of snapshot.networks)
      if (!this.#providers.has(n.provider)) missing.set(n.provider, missing.get(n.provider) ?? 0);
    for (const i of snapshot.intents)
      if (!this.#providers.has(i.provider)) missing.set(i.provider, missing.get(i.provider) ?? 0);
    if (missing.size > 0) {
      const issues = [...missing].map(([p, n]) => ({
        path: `providers.${p}`,
        message: `state has ${n} machine(s) and resources on provider "${p}", which is not registered; declare it again to manage or destroy them`,
      }));
      throw new ValidationError(issues.map((i) => i.message).join('; '), { issues });
    }
  }

  #plan(desired: DatacenterSpec, observation: Observation, options: InternalPlanOptions): Plan {
    return computePlan({
      dc: this.name,
      snapshot: observation.snapshot,
      spec: desired,
      providers: this.#providers,
      drift: observation.drift,
      orphans: observation.orphans,
      ...(options.prune === undefined ? {} : { prune: options.prune }),
      ...(options.createBeforeDestroy === undefined
        ? {}
        : { createBeforeDestroy: options.createBeforeDestroy }),
      ...(options.destroy === true ? { destroy: true } : {}),
      now: new Date(this.#clock.now()),
    });
  }

  /** Writes what refresh observed and tells events and agents; returns the new state. */
  async #record(observation: Observation): Promise<StateSnapshot> {
    let snapshot = observation.snapshot;
    if (observation.mutations.length > 0)
      snapshot = { ...snapshot, serial: await this.store.commit(observation.mutations) };
    for (const item of observation.drift) this.events.emit({ type: 'drift', item });
    for (const m of observation.orphans) this.events.emit({ type: 'orphan', machine: m });
    for (const r of observation.lost) {
      this.events.emit({
        type: 'machine.lost',
        pool: r.pool,
        id: r.id,
        provider: r.provider,
        reason: r.status === 'lost' ? 'gone from the provider' : (r.machine.error ?? 'failed'),
      });
      this.#agents?.machineLost(
        r.id,
        r.status === 'lost' ? 'gone from the provider' : (r.machine.error ?? 'failed'),
      );
    }
    for (const r of observation.becameRunning) {
      this.events.emit({ type: 'machine.running', pool: r.pool, machine: r.machine });
      this.#agents?.machineRunning(toAgent(r.pool, r.machine));
    }
    for (const r of observation.deleted)
      this.events.emit({ type: 'machine.deleted', pool: r.pool, id: r.id, provider: r.provider });
    this.events.emit({
      type: 'refresh.finished',
      machines: observation.listed,
      drift: observation.drift.length,
      orphans: observation.orphans.length,
    });
    return snapshot;
  }
}
