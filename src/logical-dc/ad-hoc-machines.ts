/**
 * Machines made one at a time through an API (the OpenStack gateway), outside any
 * declared pool. They keep every guarantee pool machines have: the create is
 * journaled with its idempotency key before the cloud call, the machine is recorded
 * in state and tagged (`kumo-dc`, `kumo-pool=adhoc.<group>`, `kumo-key`), so a crash
 * is resumed (by {@link AdHocMachines.resume} or the next `apply`) without duplicates
 * or orphans. `plan` leaves them alone unless pruning (see `ad-hoc-pool.ts`).
 */
import {
  IdempotencyKeySchema,
  MachineSpecSchema,
  NotFound,
  parse,
  systemClock,
  TAG_DC,
  TAG_POOL,
  ValidationError,
  type Clock,
  type MachineSpecInput,
  type Provider,
} from '../core/index.js';
import { adHocPool, isAdHocPool } from './ad-hoc-pool.js';
import { createJournaled } from './journaled-create.js';
import { hashOf } from './hashing.js';
import { toInventory, type InventoryMachine } from './inventory.js';
import type { LogicalDatacenter } from './logical-datacenter.js';
import { currentHolder } from './state/lock.js';
import type { Intent, MachineRecord, Mutation, StateSnapshot } from './state/state-store.js';

export interface AdHocCreate {
  /** Who the machine belongs to (a gateway project): its pool is `adhoc.<group>`. */
  readonly group: string;
  /** Name of a provider registered with the datacenter. */
  readonly provider: string;
  /** Unique per machine; a repeated create with the same key returns the same machine. */
  readonly key: string;
  readonly spec: MachineSpecInput;
}

/** An ad-hoc machine as the datacenter sees it, with the key it was created with. */
export interface AdHocMachine extends InventoryMachine {
  readonly key: string;
}

const toAdHoc = (record: MachineRecord): AdHocMachine => ({
  ...toInventory(record),
  key: record.key,
});

export interface AdHocOptions {
  readonly clock?: Clock;
  /** How long a change waits for another run's state lock (`kumo apply`). Default 30 s. */
  readonly lockTimeoutMs?: number;
  /** Live states read from the providers are reused for this long. Default 1000 ms. */
  readonly maxAgeMs?: number;
}

/**
 * Ad-hoc machines of one datacenter.
 *
 * @example
 * ```ts
 * const adhoc = new AdHocMachines(dc);
 * const m = await adhoc.create({ group: 'demo', provider: 'onprem', key: randomUUID(), spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' } });
 * await adhoc.stop('demo', m.id);
 * await adhoc.delete('demo', m.id);
 * ```
 */
export class AdHocMachines {
  readonly #dc: LogicalDatacenter;
  readonly #clock: Clock;
  readonly #lockTimeoutMs: number;
  readonly #maxAgeMs: number;
  /** Serialises this process's changes, so they queue here instead of polling the store lock. */
  #chain: Promise<unknown> = Promise.resolve();
  #opened: Promise<void> | undefined;
  readonly #refreshes = new Map<string, { at: number; run: Promise<MachineRecord[]> }>();

  constructor(dc: LogicalDatacenter, options: AdHocOptions = {}) {
    this.#dc = dc;
    this.#clock = options.clock ?? systemClock;
    this.#lockTimeoutMs = options.lockTimeoutMs ?? 30_000;
    this.#maxAgeMs = options.maxAgeMs ?? 1000;
  }

  /**
   * Makes one machine (without waiting for it to run) and records it.
   * @throws ValidationError for a bad spec, key or provider; the provider's typed errors.
   */
  async create(input: AdHocCreate): Promise<AdHocMachine> {
    const pool = adHocPool(input.group);
    this.#provider(input.provider);
    const key = parse(IdempotencyKeySchema, input.key, 'ad-hoc machine', 'key');
    const spec = parse(MachineSpecSchema, input.spec, 'machine spec', 'spec');
    const specHash = hashOf({ provider: input.provider, machine: spec });
    return this.#locked('create', async (snapshot) => {
      const made = snapshot.machines.find((r) => r.pool === pool && r.key === key);
      if (made !== undefined) return toAdHoc(made);
      const intent: Intent = {
        id: `create:${key}`,
        kind: 'create',
        provider: input.provider,
        key,
        pool,
        count: 1,
        specHash,
        spec,
        createdAt: this.#now(),
      };
      await this.#dc.store.commit([
        { op: 'spec.put', hash: specHash, spec },
        { op: 'intent.put', intent },
      ]);
      this.#dc.events.emit({
        type: 'intent.journaled',
        kind: 'create',
        provider: input.provider,
        pool,
        key,
        count: 1,
      });
      const [record] = await this.#runCreate(intent);
      if (record === undefined)
        throw new NotFound(`provider ${input.provider} made no machine for key ${key}`, {
          provider: input.provider,
        });
      this.#forget(pool);
      return toAdHoc(record);
    });
  }

  /**
   * The group's machines with their live state, newest first. States are read from the
   * providers (at most once per `maxAgeMs`); machines found gone after a delete are
   * dropped, others found gone are kept as `lost` (state `terminated`).
   */
  async list(group: string): Promise<AdHocMachine[]> {
    return (await this.#records(group)).map(toAdHoc);
  }

  /** One machine of the group by kumo id or by the key it was created with, live; undefined when unknown. */
  async get(group: string, idOrKey: string): Promise<AdHocMachine | undefined> {
    const record = (await this.#records(group)).find((r) => r.id === idOrKey || r.key === idOrKey);
    return record === undefined ? undefined : toAdHoc(record);
  }

  /**
   * Deletes a machine of the group: journaled, marked `deleting` in state, and removed
   * once its provider no longer lists it. Deleting what is already deleting is fine; a
   * create still journaled under the key is resumed, then deleted.
   * @throws NotFound when the group has no such machine.
   */
  async delete(group: string, id: string): Promise<void> {
    const pool = adHocPool(group);
    await this.#locked('delete', async (snapshot) => {
      // A create still journaled under this key (its call timed out, the cloud may have
      // acted) is resumed first, so what it made is deleted rather than left to a later
      // resume that nobody owns.
      const pending = snapshot.intents.find(
        (i) => i.kind === 'create' && i.pool === pool && i.key === id,
      );
      const record =
        pending !== undefined && !snapshot.machines.some((r) => r.pool === pool && r.key === id)
          ? await this.#resumedFor(pending, id)
          : this.#find(snapshot, pool, id);
      const intent: Intent = {
        id: `delete:${record.provider}/${record.providerId}`,
        kind: 'delete',
        provider: record.provider,
        key: `${record.provider}/${record.providerId}`,
        count: 1,
        machineIds: [record.id],
        providerIds: [record.providerId],
        createdAt: this.#now(),
      };
      await this.#dc.store.commit([
        { op: 'intent.put', intent },
        { op: 'machine.put', record: { ...record, status: 'deleting', updatedAt: this.#now() } },
      ]);
      this.#dc.events.emit({
        type: 'machine.deleting',
        pool,
        id: record.id,
        provider: record.provider,
        reason: 'deleted through the API',
      });
      await this.#runDelete(intent);
      this.#forget(pool);
    });
  }

  /** Starts a stopped machine of the group. @throws NotFound when the group has no such machine. */
  async start(group: string, id: string): Promise<AdHocMachine> {
    return this.#power(group, id, 'start');
  }

  /** Stops a running machine of the group. @throws NotFound when the group has no such machine. */
  async stop(group: string, id: string): Promise<AdHocMachine> {
    return this.#power(group, id, 'stop');
  }

  /**
   * Makes again the ad-hoc creates and deletes a crash left in the journal (same keys,
   * so nothing is made twice). Returns how many intents were resumed.
   */
  async resume(): Promise<number> {
    return this.#locked('resume', async (snapshot) => {
      const adHocIds = new Set(
        snapshot.machines.filter((r) => isAdHocPool(r.pool)).map((r) => r.id),
      );
      let resumed = 0;
      for (const intent of snapshot.intents) {
        const mine =
          intent.kind === 'create'
            ? isAdHocPool(intent.pool ?? '')
            : intent.kind === 'delete' && (intent.machineIds ?? []).some((id) => adHocIds.has(id));
        if (!mine) continue;
        this.#dc.events.emit({
          type: 'intent.resumed',
          kind: intent.kind,
          provider: intent.provider,
          ...(intent.pool === undefined ? {} : { pool: intent.pool }),
          key: intent.key,
        });
        if (intent.kind === 'create') await this.#runCreate(intent);
        else await this.#runDelete(intent);
        resumed++;
      }
      this.#refreshes.clear();
      return resumed;
    });
  }

  // --- internals ----------------------------------------------------------------------

  async #records(group: string): Promise<MachineRecord[]> {
    const pool = adHocPool(group);
    const cached = this.#refreshes.get(pool);
    if (cached !== undefined && this.#clock.now() - cached.at < this.#maxAgeMs) return cached.run;
    const run = this.#refresh(pool);
    this.#refreshes.set(pool, { at: this.#clock.now(), run });
    run.catch(() => this.#refreshes.delete(pool));
    return run;
  }

  #provider(name: string): Provider {
    const provider = this.#dc.providers.get(name);
    if (provider === undefined)
      throw new ValidationError(
        `provider "${name}" is not registered (registered: ${[...this.#dc.providers.keys()].join(', ') || 'none'})`,
        {
          issues: [{ path: 'provider', message: 'not registered' }],
        },
      );
    return provider;
  }

  #now(): string {
    return new Date(this.#clock.now()).toISOString();
  }

  #forget(pool: string): void {
    this.#refreshes.delete(pool);
  }

  async #open(): Promise<void> {
    this.#opened ??= this.#dc.store.open(this.#dc.name);
    return this.#opened;
  }

  async #resumedFor(intent: Intent, id: string): Promise<MachineRecord> {
    const [record] = await this.#runCreate(intent);
    if (record === undefined) throw new NotFound(`machine ${id} not found`);
    return record;
  }

  #find(snapshot: StateSnapshot, pool: string, id: string): MachineRecord {
    const record = snapshot.machines.find((r) => r.pool === pool && (r.id === id || r.key === id));
    if (record === undefined) throw new NotFound(`machine ${id} not found`);
    return record;
  }

  /** Runs `fn` holding this process's queue and the state lock, on a fresh snapshot. */
  async #locked<T>(what: string, fn: (snapshot: StateSnapshot) => Promise<T>): Promise<T> {
    const run = this.#chain.then(async () => {
      await this.#open();
      const lock = await this.#dc.store.lock(currentHolder(`ad hoc ${what}`), {
        timeoutMs: this.#lockTimeoutMs,
      });
      try {
        return await fn(await this.#dc.store.read());
      } finally {
        await lock.release();
      }
    });
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async #runCreate(intent: Intent): Promise<MachineRecord[]> {
    const pool = intent.pool ?? adHocPool('default');
    const records = await createJournaled({
      provider: this.#provider(intent.provider),
      intent,
      store: this.#dc.store,
      dc: this.#dc.name,
      pool,
      now: this.#now(),
    });
    for (const r of records)
      this.#dc.events.emit({ type: 'machine.created', pool, machine: r.machine });
    return records;
  }

  async #runDelete(intent: Intent): Promise<void> {
    await this.#provider(intent.provider).deleteMachines(intent.providerIds ?? []);
    await this.#dc.store.commit([{ op: 'intent.remove', id: intent.id }]);
  }

  async #power(group: string, id: string, action: 'start' | 'stop'): Promise<AdHocMachine> {
    const pool = adHocPool(group);
    return this.#locked(action, async (snapshot) => {
      const record = this.#find(snapshot, pool, id);
      if (record.status !== 'present')
        throw new NotFound(
          `machine ${record.id} is ${record.status === 'deleting' ? 'being deleted' : 'gone from its provider'}`,
        );
      const provider = this.#provider(record.provider);
      // NOTE: not journaled, as in apply: start and stop make nothing and are idempotent.
      const live =
        action === 'start'
          ? await provider.startMachine(record.providerId)
          : await provider.stopMachine(record.providerId);
      const next: MachineRecord = {
        ...record,
        machine: { ...record.machine, state: live.state, addresses: live.addresses },
        updatedAt: this.#now(),
      };
      await this.#dc.store.commit([{ op: 'machine.put', record: next }]);
      if (action === 'start')
        this.#dc.events.emit({ type: 'machine.started', pool, machine: next.machine });
      this.#forget(pool);
      return toAdHoc(next);
    });
  }

  /**
   * Reads the live state of the pool's machines: one listing per provider that has
   * some. Writes only what changed, without the state lock: these are observations of
   * machines no spec owns, and each write is one record's own.
   */
  async #refresh(pool: string): Promise<MachineRecord[]> {
    await this.#open();
    const snapshot = await this.#dc.store.read();
    const records = snapshot.machines.filter((r) => r.pool === pool);
    const providers = [...new Set(records.map((r) => r.provider))].filter((p) =>
      this.#dc.providers.has(p),
    );
    const listings = await Promise.all(
      providers.map(async (name) => {
        const machines = await this.#provider(name).listMachines({
          labels: { [TAG_DC]: this.#dc.name, [TAG_POOL]: pool },
        });
        return [
          name,
          new Map(machines.filter((m) => m.state !== 'terminated').map((m) => [m.providerId, m])),
        ] as const;
      }),
    );
    const live = new Map(listings);
    const mutations: Mutation[] = [];
    const out: MachineRecord[] = [];
    const now = this.#now();
    for (const record of records) {
      const seen = live.get(record.provider);
      if (seen === undefined) {
        out.push(record);
        continue;
      }
      const machine = seen.get(record.providerId);
      if (machine === undefined) {
        if (record.status === 'deleting') {
          mutations.push({ op: 'machine.remove', id: record.id });
          this.#dc.events.emit({
            type: 'machine.deleted',
            pool,
            id: record.id,
            provider: record.provider,
          });
          continue;
        }
        const gone: MachineRecord = {
          ...record,
          status: 'lost',
          machine: { ...record.machine, state: 'terminated' },
          updatedAt: now,
        };
        if (record.status !== 'lost') {
          mutations.push({ op: 'machine.put', record: gone });
          this.#dc.events.emit({
            type: 'machine.lost',
            pool,
            id: record.id,
            provider: record.provider,
            reason: 'gone from the provider',
          });
        }
        out.push(gone);
        continue;
      }
      const next: MachineRecord = {
        ...record,
        status: record.status === 'deleting' ? 'deleting' : 'present',
        machine,
      };
      if (
        JSON.stringify(next.machine) !== JSON.stringify(record.machine) ||
        next.status !== record.status
      ) {
        mutations.push({ op: 'machine.put', record: { ...next, updatedAt: now } });
        if (machine.state === 'running' && record.machine.state !== 'running')
          this.#dc.events.emit({ type: 'machine.running', pool, machine });
      }
      out.push(next);
    }
    if (mutations.length > 0) await this.#dc.store.commit(mutations);
    return out.sort(
      (a, b) => b.machine.createdAt.localeCompare(a.machine.createdAt) || a.id.localeCompare(b.id),
    );
  }
}
