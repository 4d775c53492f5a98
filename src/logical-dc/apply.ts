/**
 * Apply: runs a plan's steps against the providers. Every cloud call that makes or
 * removes something is journaled in the store first (an {@link Intent} with its
 * idempotency key), and its outcome is committed in the same transaction that drops
 * the intent. A crash anywhere leaves either nothing or a journaled intent, which the
 * next apply makes again with the same key: no duplicates (provider rule 1), no
 * orphans (every machine's key is journaled before it can exist).
 */
import {
  BatchPoller,
  createRateLimiter,
  errorMessage,
  isKumoError,
  TAG_DC,
  waitUntil,
  type Clock,
  type Machine,
  type MachineSpec,
  type NetworkSpec,
  type Provider,
  type RateLimiter,
} from '../core/index.js';
import { toAgent, type AgentSink } from './agents.js';
import type { EventHub } from './events.js';
import { createKey, hashOf } from './hashing.js';
import { createJournaled, isDefinitive } from './journaled-create.js';
import { formatStep } from './plan-format.js';
import type { ApplySummary, MachineRef, Plan, PlanStep, StepFailure } from './plan-types.js';
import type {
  Intent,
  MachineRecord,
  Mutation,
  StateSnapshot,
  StateStore,
} from './state/state-store.js';

/** The label carrying the spec hash a machine was made from, so `adopt` can restore it. */
export { TAG_SPEC } from './journaled-create.js';

export interface ExecutorContext {
  readonly dc: string;
  readonly store: StateStore;
  readonly providers: ReadonlyMap<string, Provider>;
  readonly events: EventHub;
  readonly agents: AgentSink | undefined;
  readonly clock: Clock;
}

export interface ExecuteOptions {
  /** Cloud calls in flight per provider. Default 8. */
  readonly parallelism?: number;
  /** Machines per create call (and journal entry). Default 100 where the provider batches, else 10. */
  readonly batchSize?: number;
  readonly signal?: AbortSignal;
  /** Longest wait for created machines to run, and for deleted ones to go. Default 15 minutes. */
  readonly timeoutMs?: number;
  /** Wait until deleted machines are gone before returning (destroy). */
  readonly waitForDeletes?: boolean;
  /**
   * The run destroys the datacenter: journaled creates are dropped, not resumed (what
   * they made was listed as orphans, so the plan deletes it), and journaled network
   * ensures become deletes.
   */
  readonly destroying?: boolean;
}

function errorCode(err: unknown): string {
  if (isKumoError(err)) return err.code;
  if (err instanceof Error && err.name === 'AbortError') return 'Interrupted';
  return 'Error';
}

/** Runs `plan` (whose state is `snapshot`) and returns what happened. */
export async function executePlan(
  ctx: ExecutorContext,
  plan: Plan,
  snapshot: StateSnapshot,
  options: ExecuteOptions = {},
): Promise<ApplySummary> {
  return new Executor(ctx, plan, snapshot, options).run();
}

class Executor {
  readonly #ctx: ExecutorContext;
  readonly #plan: Plan;
  readonly #snapshot: StateSnapshot;
  readonly #options: ExecuteOptions;
  readonly #queues = new Map<string, RateLimiter>();
  readonly #records: Map<string, MachineRecord>;
  readonly #failures: StepFailure[] = [];
  /** Steps the interrupt stopped (not failures: the next apply does them). */
  #notRun = 0;
  readonly #failedNetworks = new Set<string>();
  /** provider → provider ids deleted in this run, to confirm gone. */
  readonly #deleted = new Map<string, Map<string, string>>();
  readonly #batches = new Map<string, number>();
  readonly #pollers = new Map<string, BatchPoller<Machine>>();
  readonly #journaledKeys = new Set<string>();
  #created = 0;
  #deletedCount = 0;
  #replaced = 0;
  #started = 0;
  #networks = 0;
  #resumed = 0;

  constructor(ctx: ExecutorContext, plan: Plan, snapshot: StateSnapshot, options: ExecuteOptions) {
    this.#ctx = ctx;
    this.#plan = plan;
    this.#snapshot = snapshot;
    this.#options = options;
    this.#records = new Map(snapshot.machines.map((r) => [r.id, r]));
  }

  async run(): Promise<ApplySummary> {
    const t0 = this.#ctx.clock.now();
    const steps = this.#plan.steps;
    const intents = this.#snapshot.intents;
    this.#ctx.events.emit({
      type: 'apply.started',
      steps: steps.length,
      creates: this.#plan.summary.create + this.#plan.summary.replace,
      deletes: this.#plan.summary.delete + this.#plan.summary.replace,
      resumes: intents.length,
    });

    // 1. Networks: journaled ensures left by a crash, then the plan's.
    const destroying = this.#options.destroying === true;
    await Promise.all([
      ...intents
        .filter((i) => i.kind === 'ensure-network' && !destroying)
        .map((i) => this.#resume(i, () => this.#runEnsureNetwork(i))),
      ...steps.flatMap((s) =>
        s.kind === 'network.create' || s.kind === 'network.update' ? [this.#ensureNetwork(s)] : [],
      ),
    ]);

    // 2. Machines, bounded per provider: resumed intents, then the plan's steps.
    const work: Promise<unknown>[] = [];
    for (const i of intents) {
      if (i.kind === 'create' && destroying)
        work.push(
          this.#resume(i, async () => {
            await this.#ctx.store.commit([{ op: 'intent.remove', id: i.id }]);
          }),
        );
      else if (i.kind === 'create')
        work.push(
          this.#resume(i, async () => {
            const records = await this.#run(i.provider, () => this.#runCreate(i));
            await this.#awaitRunning(i.provider, records);
          }),
        );
      if (i.kind === 'delete') work.push(this.#resume(i, () => this.#runDelete(i)));
    }
    const deletes = new Map<string, Extract<PlanStep, { kind: 'delete' }>[]>();
    const replaces = new Map<string, Extract<PlanStep, { kind: 'replace' }>[]>();
    for (const s of steps) {
      if (s.kind === 'create')
        work.push(
          this.#createMachines(s, s.pool, s.provider, s.count, s.specHash, s.spec).then(
            () => undefined,
          ),
        );
      else if (s.kind === 'start') work.push(this.#start(s));
      else if (s.kind === 'delete')
        deletes.set(s.provider, [...(deletes.get(s.provider) ?? []), s]);
      else if (s.kind === 'replace')
        replaces.set(`${s.pool}\u0000${s.createBeforeDestroy}`, [
          ...(replaces.get(`${s.pool}\u0000${s.createBeforeDestroy}`) ?? []),
          s,
        ]);
    }
    for (const [provider, group] of deletes)
      for (let i = 0; i < group.length; i += 100) {
        const chunk = group.slice(i, i + 100);
        work.push(
          this.#deleteMachines(
            provider,
            chunk.map((s) => s.machine),
            chunk[0]!.reason,
            chunk,
          ),
        );
      }
    for (const group of replaces.values()) work.push(this.#replace(group));
    await Promise.all(work);

    // 3. Deleted machines confirmed gone; then networks no longer declared.
    const networkDeletes = steps.filter(
      (s): s is Extract<PlanStep, { kind: 'network.delete' }> => s.kind === 'network.delete',
    );
    const planned = new Set(networkDeletes.map((s) => `${s.provider}/${s.name}`));
    // Destroying, a journaled ensure is deleted too (unless the plan deletes it anyway).
    const networkIntents = intents.filter(
      (i) =>
        i.kind === 'delete-network' ||
        (destroying && i.kind === 'ensure-network' && !planned.has(i.key)),
    );
    const dropped = intents.filter(
      (i) => destroying && i.kind === 'ensure-network' && planned.has(i.key),
    );
    if (dropped.length > 0)
      await this.#ctx.store.commit(
        dropped.map((i): Mutation => ({ op: 'intent.remove', id: i.id })),
      );
    const waitFor = new Set<string>([
      ...networkDeletes.map((s) => s.provider),
      ...networkIntents.map((i) => i.provider),
    ]);
    await this.#confirmDeletes(waitFor);
    await Promise.all([
      ...networkIntents.map((i) => this.#resume(i, () => this.#runDeleteNetwork(i))),
      ...networkDeletes.map((s) => this.#deleteNetwork(s)),
    ]);

    const pendingIntents = (await this.#ctx.store.read()).intents.length;
    const summary: ApplySummary = {
      ok: this.#failures.length === 0 && pendingIntents === 0 && this.#notRun === 0,
      interrupted: this.#options.signal?.aborted === true,
      notRun: this.#notRun,
      created: this.#created,
      deleted: this.#deletedCount,
      replaced: this.#replaced,
      started: this.#started,
      networks: this.#networks,
      resumed: this.#resumed,
      failed: this.#failures,
      pendingIntents,
      durationMs: this.#ctx.clock.now() - t0,
    };
    this.#ctx.events.emit({ type: 'apply.finished', summary });
    return summary;
  }

  // --- helpers ------------------------------------------------------------------------

  #provider(name: string): Provider {
    const p = this.#ctx.providers.get(name);
    if (p === undefined)
      throw new Error(`provider "${name}" is not registered with datacenter ${this.#ctx.dc}`);
    return p;
  }

  #queue(provider: string): RateLimiter {
    let q = this.#queues.get(provider);
    if (q === undefined) {
      q = createRateLimiter({ concurrency: this.#options.parallelism ?? 8 });
      this.#queues.set(provider, q);
    }
    return q;
  }

  /** Runs `fn` in the provider's queue, unless the run was interrupted before it started. */
  #run<T>(provider: string, fn: () => Promise<T>): Promise<T> {
    return this.#queue(provider).run(() => {
      this.#options.signal?.throwIfAborted();
      return fn();
    });
  }

  /** True when `err` is the run's own interrupt (its signal's reason, or an abort). */
  #interruptedBy(err: unknown): boolean {
    const signal = this.#options.signal;
    if (signal?.aborted !== true) return false;
    return err === signal.reason || (err instanceof Error && err.name === 'AbortError');
  }

  /** Records a failure; false when `err` was the interrupt (counted as not run instead). */
  #fail(step: string, err: unknown, resumable: boolean): boolean {
    if (this.#interruptedBy(err)) {
      this.#notRun++;
      return false;
    }
    const failure: StepFailure = {
      step,
      code: errorCode(err),
      message: errorMessage(err),
      resumable,
    };
    this.#failures.push(failure);
    return true;
  }

  #failStep(step: PlanStep, err: unknown, resumable: boolean): void {
    if (!this.#fail(formatStep(step), err, resumable)) return;
    this.#ctx.events.emit({
      type: 'step.failed',
      step,
      error: { code: errorCode(err), message: errorMessage(err) },
    });
  }

  async #resume(intent: Intent, fn: () => Promise<void>): Promise<void> {
    this.#resumed++;
    this.#ctx.events.emit({
      type: 'intent.resumed',
      kind: intent.kind,
      provider: intent.provider,
      ...(intent.pool === undefined ? {} : { pool: intent.pool }),
      key: intent.key,
    });
    try {
      await fn();
    } catch (err) {
      const step: PlanStep = {
        kind: 'resume',
        intent: { id: intent.id, kind: intent.kind, provider: intent.provider },
      };
      this.#failStep(step, err, true);
    }
  }

  #now(): string {
    return new Date(this.#ctx.clock.now()).toISOString();
  }

  // --- networks -----------------------------------------------------------------------

  async #ensureNetwork(
    step: Extract<PlanStep, { kind: 'network.create' | 'network.update' }>,
  ): Promise<void> {
    const intent: Intent = {
      id: `ensure-network:${step.provider}/${step.name}`,
      kind: 'ensure-network',
      provider: step.provider,
      key: `${step.provider}/${step.name}`,
      network: step.name,
      specHash: step.specHash,
      spec: step.spec,
      createdAt: this.#now(),
    };
    try {
      await this.#ctx.store.commit([{ op: 'intent.put', intent }]);
      this.#journaled(intent, 1);
      await this.#runEnsureNetwork(intent);
    } catch (err) {
      this.#failedNetworks.add(`${step.provider}/${step.name}`);
      this.#failStep(step, err, !isDefinitive(err));
    }
  }

  async #runEnsureNetwork(intent: Intent): Promise<void> {
    const spec = intent.spec as NetworkSpec;
    try {
      const network = await this.#run(intent.provider, () =>
        this.#provider(intent.provider).ensureNetwork(spec, {
          labels: { [TAG_DC]: this.#ctx.dc },
          ...(this.#options.signal ? { signal: this.#options.signal } : {}),
        }),
      );
      await this.#ctx.store.commit([
        {
          op: 'network.put',
          record: {
            provider: intent.provider,
            name: spec.name,
            specHash: intent.specHash ?? hashOf(spec),
            status: 'present',
            network,
            updatedAt: this.#now(),
          },
        },
        { op: 'intent.remove', id: intent.id },
      ]);
      this.#networks++;
      this.#ctx.events.emit({
        type: 'network.ensured',
        provider: intent.provider,
        name: spec.name,
        id: network.id,
      });
    } catch (err) {
      // A refusal (bad CIDR, no permission) is final: drop the intent so a corrected spec is not shadowed by it.
      if (isDefinitive(err)) await this.#ctx.store.commit([{ op: 'intent.remove', id: intent.id }]);
      throw err;
    }
  }

  async #deleteNetwork(step: Extract<PlanStep, { kind: 'network.delete' }>): Promise<void> {
    const intent: Intent = {
      id: `delete-network:${step.provider}/${step.name}`,
      kind: 'delete-network',
      provider: step.provider,
      key: `${step.provider}/${step.name}`,
      network: step.name,
      createdAt: this.#now(),
    };
    try {
      await this.#ctx.store.commit([{ op: 'intent.put', intent }]);
      this.#journaled(intent, 1);
      await this.#runDeleteNetwork(intent);
    } catch (err) {
      this.#failStep(step, err, true);
    }
  }

  async #runDeleteNetwork(intent: Intent): Promise<void> {
    const name = intent.network ?? '';
    await this.#run(intent.provider, () =>
      this.#provider(intent.provider).deleteNetwork(
        name,
        this.#options.signal ? { signal: this.#options.signal } : {},
      ),
    );
    await this.#ctx.store.commit([
      { op: 'network.remove', provider: intent.provider, name },
      { op: 'intent.remove', id: intent.id },
    ]);
    this.#networks++;
    this.#ctx.events.emit({ type: 'network.deleted', provider: intent.provider, name });
  }

  #journaled(intent: Intent, count: number): void {
    this.#ctx.events.emit({
      type: 'intent.journaled',
      kind: intent.kind,
      provider: intent.provider,
      ...(intent.pool === undefined ? {} : { pool: intent.pool }),
      key: intent.key,
      count,
    });
  }

  // --- machines -----------------------------------------------------------------------

  #batchSize(provider: string): number {
    return Math.max(
      1,
      this.#options.batchSize ??
        (this.#ctx.providers.get(provider)?.capabilities.batchCreate ? 100 : 10),
    );
  }

  /** Creates `count` machines in journaled batches; returns how many were made. */
  async #createMachines(
    step: PlanStep,
    pool: string,
    provider: string,
    count: number,
    specHash: string,
    spec: MachineSpec,
  ): Promise<number> {
    if (spec.network !== undefined && this.#failedNetworks.has(`${provider}/${spec.network}`)) {
      this.#failStep(
        step,
        new Error(`network ${spec.network} could not be made on ${provider}`),
        false,
      );
      return 0;
    }
    const size = this.#batchSize(provider);
    const batches: Promise<number>[] = [];
    for (let left = count; left > 0; left -= size) {
      const n = Math.min(size, left);
      // Batch numbers are taken in plan order, before anything runs: the same plan gives the same keys.
      const batch = this.#batches.get(pool) ?? 0;
      this.#batches.set(pool, batch + 1);
      const key = createKey({
        dc: this.#ctx.dc,
        lineage: this.#plan.lineage,
        pool,
        specHash,
        serial: this.#plan.serial,
        batch,
      });
      const intent: Intent = {
        id: `create:${key}`,
        kind: 'create',
        provider,
        key,
        pool,
        count: n,
        specHash,
        spec,
        createdAt: this.#now(),
      };
      batches.push(
        this.#run(provider, async () => {
          await this.#ctx.store.commit([
            { op: 'spec.put', hash: specHash, spec },
            { op: 'intent.put', intent },
          ]);
          this.#journaled(intent, n);
          return this.#runCreate(intent);
        }).then(
          // Waiting for running happens outside the provider's queue: it holds no call slot.
          (records) => this.#awaitRunning(provider, records),
          (err: unknown) => {
            // Resumable when the intent stayed in the journal: it was written and the cloud did not refuse.
            this.#failStep(step, err, this.#journaledKeys.has(key) && !isDefinitive(err));
            return 0;
          },
        ),
      );
    }
    const made = await Promise.all(batches);
    return made.reduce((a, b) => a + b, 0);
  }

  /**
   * Makes a journaled create's call and records the machines in the same commit that
   * closes the intent. Does not wait for them to run (see {@link #awaitRunning}): the
   * journal entry is closed as soon as the cloud has answered.
   */
  async #runCreate(intent: Intent): Promise<MachineRecord[]> {
    this.#journaledKeys.add(intent.key);
    const pool = intent.pool ?? 'default';
    const records = await createJournaled({
      provider: this.#provider(intent.provider),
      intent,
      store: this.#ctx.store,
      dc: this.#ctx.dc,
      pool,
      now: this.#now(),
      ...(this.#options.signal ? { signal: this.#options.signal } : {}),
    });
    for (const r of records) {
      this.#records.set(r.id, r);
      this.#created++;
      this.#ctx.events.emit({ type: 'machine.created', pool, machine: r.machine });
    }
    return records;
  }

  /** One batched poller per provider: every round is one listing for all machines awaited. */
  #poller(provider: string): BatchPoller<Machine> {
    let poller = this.#pollers.get(provider);
    if (poller === undefined) {
      poller = new BatchPoller<Machine>({
        fetch: async (ids) => {
          const wanted = new Set(ids);
          const listed = await this.#provider(provider).listMachines(
            {
              labels: { [TAG_DC]: this.#ctx.dc },
              states: ['pending', 'running', 'stopping', 'stopped', 'terminated', 'error'],
            },
            this.#options.signal ? { signal: this.#options.signal } : {},
          );
          return new Map(
            listed.filter((m) => wanted.has(m.providerId)).map((m) => [m.providerId, m]),
          );
        },
        intervalMs: 50,
        maxIntervalMs: 5000,
        clock: this.#ctx.clock,
        provider,
      });
      this.#pollers.set(provider, poller);
    }
    return poller;
  }

  /**
   * Waits until created machines leave `pending`, records what they became, and tells
   * events and agents. Returns how many run.
   */
  async #awaitRunning(provider: string, records: readonly MachineRecord[]): Promise<number> {
    const pending = records.filter((r) => r.machine.state === 'pending');
    let latest = new Map<string, Machine>();
    if (pending.length > 0) {
      try {
        latest = new Map(
          await this.#poller(provider).waitFor(
            pending.map((r) => r.providerId),
            (seen) =>
              pending.every((r) => (seen.get(r.providerId)?.state ?? 'pending') !== 'pending'),
            {
              timeoutMs: this.#options.timeoutMs ?? 900_000,
              what: `${pending.length} machine(s) of pool ${pending[0]!.pool} running`,
            },
          ),
        );
      } catch (err) {
        // The machines exist and are recorded; a later refresh sees how they turned out.
        this.#fail(
          `wait for ${pending.length} machine(s) of pool ${pending[0]!.pool} on ${provider} to run`,
          err,
          false,
        );
        return records.filter((r) => r.machine.state === 'running').length;
      }
    }
    const now = this.#now();
    const updates: Mutation[] = [];
    let running = 0;
    for (const r of records) {
      const machine = latest.get(r.providerId) ?? r.machine;
      if (machine !== r.machine) {
        const next: MachineRecord = {
          ...r,
          machine: { ...machine, labels: r.machine.labels },
          updatedAt: now,
        };
        this.#records.set(r.id, next);
        updates.push({ op: 'machine.put', record: next });
      }
      if (machine.state === 'running') {
        running++;
        this.#ctx.events.emit({ type: 'machine.running', pool: r.pool, machine });
        this.#ctx.agents?.machineRunning(toAgent(r.pool, machine));
      } else if (machine.state === 'error' || machine.state === 'terminated')
        this.#fail(
          `+ ${r.id} (${r.pool} on ${provider})`,
          new Error(machine.error ?? `the machine is ${machine.state}`),
          false,
        );
    }
    if (updates.length > 0) await this.#ctx.store.commit(updates);
    return running;
  }

  /** Deletes machines as one journaled call. */
  async #deleteMachines(
    provider: string,
    machines: readonly MachineRef[],
    reason: string,
    steps: readonly PlanStep[],
  ): Promise<boolean> {
    const key = `${provider}/${hashOf(
      machines.map((m) => m.providerId),
      16,
    )}`;
    const intent: Intent = {
      id: `delete:${key}`,
      kind: 'delete',
      provider,
      key,
      count: machines.length,
      machineIds: machines.map((m) => m.id),
      providerIds: machines.map((m) => m.providerId),
      createdAt: this.#now(),
    };
    try {
      await this.#run(provider, async () => {
        const now = this.#now();
        const marks: Mutation[] = [];
        for (const m of machines) {
          const r = this.#records.get(m.id);
          if (r !== undefined) {
            const next: MachineRecord = { ...r, status: 'deleting', updatedAt: now };
            this.#records.set(m.id, next);
            marks.push({ op: 'machine.put', record: next });
          }
        }
        await this.#ctx.store.commit([{ op: 'intent.put', intent }, ...marks]);
        this.#journaled(intent, machines.length);
        for (const m of machines) {
          const r = this.#records.get(m.id);
          this.#ctx.events.emit({
            type: 'machine.deleting',
            pool: r?.pool ?? '(orphan)',
            id: m.id,
            provider,
            reason,
          });
          this.#ctx.agents?.machineLeft(m.id, reason);
        }
        await this.#runDelete(intent);
      });
      return true;
    } catch (err) {
      for (const s of steps) this.#failStep(s, err, true);
      return false;
    }
  }

  async #runDelete(intent: Intent): Promise<void> {
    const ids = intent.providerIds ?? [];
    await this.#provider(intent.provider).deleteMachines(
      ids,
      this.#options.signal ? { signal: this.#options.signal } : {},
    );
    await this.#ctx.store.commit([{ op: 'intent.remove', id: intent.id }]);
    const mine = this.#deleted.get(intent.provider) ?? new Map<string, string>();
    (intent.providerIds ?? []).forEach((pid, i) => mine.set(pid, intent.machineIds?.[i] ?? pid));
    this.#deleted.set(intent.provider, mine);
    this.#deletedCount += ids.length;
  }

  async #replace(group: readonly Extract<PlanStep, { kind: 'replace' }>[]): Promise<void> {
    const first = group[0]!;
    const old = group.map((s) => s.machine);
    if (first.createBeforeDestroy) {
      const made = await this.#createMachines(
        first,
        first.pool,
        first.provider,
        group.length,
        first.specHash,
        first.spec,
      );
      // Only as many old machines go as new ones came up.
      if (made > 0)
        await this.#deleteMachines(
          first.provider,
          old.slice(0, made),
          first.reason,
          group.slice(0, made),
        );
      this.#replaced += Math.min(made, group.length);
    } else {
      // Only this delete's own outcome counts: groups run side by side, so a failure
      // elsewhere in the run must not leave this pool deleted and not made again.
      if (!(await this.#deleteMachines(first.provider, old, first.reason, group))) return;
      const made = await this.#createMachines(
        first,
        first.pool,
        first.provider,
        group.length,
        first.specHash,
        first.spec,
      );
      this.#replaced += made;
    }
  }

  async #start(step: Extract<PlanStep, { kind: 'start' }>): Promise<void> {
    // NOTE: not journaled: starting makes nothing and is idempotent (starting a running machine leaves it).
    try {
      const machine = await this.#run(step.provider, () =>
        this.#provider(step.provider).startMachine(
          step.machine.providerId,
          this.#options.signal ? { signal: this.#options.signal } : {},
        ),
      );
      const r = this.#records.get(step.machine.id);
      if (r !== undefined)
        await this.#ctx.store.commit([
          {
            op: 'machine.put',
            record: {
              ...r,
              machine: { ...r.machine, state: machine.state },
              updatedAt: this.#now(),
            },
          },
        ]);
      this.#started++;
      this.#ctx.events.emit({ type: 'machine.started', pool: step.pool, machine });
    } catch (err) {
      this.#failStep(step, err, false);
    }
  }

  /**
   * Removes the records of deleted machines the providers no longer list. Waits until
   * all are gone for providers in `waitFor` (their networks are deleted next) or when
   * asked to; elsewhere machines still shutting down stay `deleting` until a refresh.
   */
  async #confirmDeletes(waitFor: ReadonlySet<string>): Promise<void> {
    await Promise.all(
      [...this.#deleted].map(async ([provider, ids]) => {
        const check = async (): Promise<boolean> => {
          const listed = await this.#provider(provider).listMachines(
            { labels: { [TAG_DC]: this.#ctx.dc } },
            this.#options.signal ? { signal: this.#options.signal } : {},
          );
          const live = new Set(
            listed.filter((m) => m.state !== 'terminated').map((m) => m.providerId),
          );
          const gone = [...ids].filter(([pid]) => !live.has(pid));
          if (gone.length > 0) {
            const removals: Mutation[] = [];
            for (const [pid, id] of gone) {
              ids.delete(pid);
              const r = this.#records.get(id);
              if (r !== undefined && r.providerId === pid) {
                removals.push({ op: 'machine.remove', id });
                this.#records.delete(id);
              }
              this.#ctx.events.emit({
                type: 'machine.deleted',
                pool: r?.pool ?? '(orphan)',
                id,
                provider,
              });
            }
            if (removals.length > 0) await this.#ctx.store.commit(removals);
          }
          return ids.size === 0;
        };
        try {
          if (this.#options.waitForDeletes === true || waitFor.has(provider))
            await waitUntil(check, {
              clock: this.#ctx.clock,
              intervalMs: 100,
              maxIntervalMs: 2000,
              timeoutMs: this.#options.timeoutMs ?? 900_000,
              what: `deleted machines on ${provider} gone`,
              provider,
              ...(this.#options.signal ? { signal: this.#options.signal } : {}),
            });
          else await check();
        } catch (err) {
          this.#fail(`confirm deletes on ${provider}`, err, false);
        }
      }),
    );
  }
}
