/**
 * The simulated cloud's server side: what a real cloud's API would do, in process.
 * It owns capacity, quotas, client-token idempotency, latency, API rate limiting and
 * injected faults. The provider (`sim-provider.ts`) is its client, written as a
 * provider for a real cloud would be.
 *
 * Machine state is derived from timestamps on the clock, not from timers, so it
 * persists to a file and replays under a virtual clock without anything running.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  Conflict,
  cidrRange,
  InsufficientCapacity,
  NotFound,
  ProviderError,
  QuotaExceeded,
  Throttled,
  Timeout,
  type Clock,
  type MachineState,
  type Random,
  type Resources,
} from '../../core/index.js';
import type { SimConfig, SimFaultKind } from './sim-config.js';

export interface SimMachineRecord {
  providerId: string;
  name: string;
  zone: string;
  size: string;
  resources: Resources;
  image: string;
  spot: boolean;
  pricePerHour?: number;
  network?: string;
  labels: Record<string, string>;
  privateIp: string;
  publicIp?: string;
  clientToken: string;
  createdAt: number;
  /** When it becomes running (after boot or start). */
  readyAt: number;
  /** When a stop was asked for; absent while powered on. */
  stopAt?: number;
  deleteAt?: number;
  interruptAt?: number;
}

export interface SimNetworkRecord {
  id: string;
  name: string;
  cidr: string;
  subnets: { id: string; name: string; cidr: string; zone?: string; public: boolean }[];
  firewallId: string;
  firewall: unknown[];
  labels: Record<string, string>;
}

interface TokenRecord {
  fingerprint: string;
  providerIds: string[];
}

interface PersistedState {
  version: 1;
  seq: number;
  machines: SimMachineRecord[];
  networks: SimNetworkRecord[];
  tokens: Record<string, TokenRecord>;
}

export interface RunInstancesInput {
  clientToken: string;
  /** A digest of the parameters: the same token with other parameters is refused. */
  fingerprint: string;
  names: string[];
  zones: string[];
  size: string;
  resources: Resources;
  image: string;
  spot: boolean;
  pricePerHour?: number;
  network?: string;
  publicIp: boolean;
  labels: (index: number) => Record<string, string>;
}

/** How long terminated machines stay visible, as on EC2 (about an hour). */
const TERMINATED_RETENTION_MS = 60 * 60_000;

export class SimCloud {
  readonly #config: SimConfig;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #zones: readonly string[];
  #state: PersistedState = { version: 1, seq: 0, machines: [], networks: [], tokens: {} };
  #byId = new Map<string, SimMachineRecord>();
  #loadedMtime = -1;
  #tokens: number;
  #tokensAt: number;
  /** Faults queued by tests, taken before the random rates are consulted. */
  readonly #queued: { kind: SimFaultKind; times: number }[] = [];
  /** API calls made, by operation, for benches and tests. */
  readonly calls = new Map<string, number>();

  constructor(config: SimConfig, zones: readonly string[], clock: Clock, random: Random) {
    this.#config = config;
    this.#clock = clock;
    this.#random = random;
    this.#zones = zones;
    this.#tokens = config.apiRate.burst;
    this.#tokensAt = clock.now();
    this.#load();
  }

  /** Queues `times` faults of `kind` for the next calls that can have it. */
  inject(kind: SimFaultKind, times = 1): void {
    this.#queued.push({ kind, times });
  }

  /** Total API calls made so far. */
  get totalCalls(): number {
    let n = 0;
    for (const v of this.calls.values()) n += v;
    return n;
  }

  // --- the API -----------------------------------------------------------------------

  async runInstances(input: RunInstancesInput): Promise<SimMachineRecord[]> {
    await this.#call('RunInstances', ['throttle', 'transient', 'capacity']);
    this.#load();
    const previous = this.#state.tokens[input.clientToken];
    if (previous !== undefined) {
      if (previous.fingerprint !== input.fingerprint)
        throw new Conflict(`client token ${input.clientToken} was used with different parameters`, {
          provider: this.#config.name,
          cause: { code: 'IdempotentParameterMismatch' },
        });
      return previous.providerIds
        .map((id) => this.#byId.get(id))
        .filter((m): m is SimMachineRecord => m !== undefined);
    }
    if (input.network !== undefined && !this.#state.networks.some((n) => n.name === input.network))
      throw new NotFound(
        `network "${input.network}" does not exist; create it first (ensureNetwork)`,
        {
          provider: this.#config.name,
          cause: { code: 'NetworkNotFound' },
        },
      );
    this.#checkQuota(input);
    this.#checkCapacity(input);
    const now = this.#clock.now();
    const { bootMs } = this.#config.latency;
    const addresses = this.#addressesFor(input);
    const created: SimMachineRecord[] = input.names.map((name, i) => {
      const seq = ++this.#state.seq;
      const zone = input.zones[i] ?? input.zones[0] ?? this.#zones[0]!;
      const record: SimMachineRecord = {
        providerId: `sim-${seq.toString(36).padStart(6, '0')}`,
        name,
        zone,
        size: input.size,
        resources: input.resources,
        image: input.image,
        spot: input.spot,
        ...(input.pricePerHour === undefined ? {} : { pricePerHour: input.pricePerHour }),
        ...(input.network === undefined ? {} : { network: input.network }),
        labels: input.labels(i),
        privateIp:
          addresses?.[i] ??
          `10.${this.#zones.indexOf(zone) & 255}.${(seq >> 8) & 255}.${seq & 255}`,
        ...(input.publicIp ? { publicIp: `203.0.113.${seq & 255}` } : {}),
        clientToken: input.clientToken,
        createdAt: now,
        readyAt: now + this.#jitter(bootMs),
      };
      if (input.spot && this.#random() < this.#config.faults.spotInterruption)
        record.interruptAt = record.readyAt + this.#jitter(10 * 60_000);
      return record;
    });
    for (const m of created) {
      this.#state.machines.push(m);
      this.#byId.set(m.providerId, m);
    }
    this.#state.tokens[input.clientToken] = {
      fingerprint: input.fingerprint,
      providerIds: created.map((m) => m.providerId),
    };
    this.#save();
    if (this.#take('timeoutAfterSuccess'))
      throw new Timeout('the create call timed out (the cloud may have acted)', {
        provider: this.#config.name,
        cause: { code: 'RequestTimeout' },
      });
    return created;
  }

  async describeInstances(filter: { ids?: readonly string[] } = {}): Promise<SimMachineRecord[]> {
    await this.#call('DescribeInstances', ['throttle', 'transient']);
    this.#load();
    this.#purge();
    if (filter.ids === undefined) return [...this.#state.machines];
    return filter.ids
      .map((id) => this.#byId.get(id))
      .filter((m): m is SimMachineRecord => m !== undefined);
  }

  async terminateInstances(ids: readonly string[]): Promise<void> {
    await this.#call('TerminateInstances', ['throttle', 'transient']);
    this.#load();
    const now = this.#clock.now();
    let changed = false;
    for (const id of ids) {
      const m = this.#byId.get(id);
      // Already gone (deleted, or a reclaimed spot machine keeping its reason): nothing to do.
      if (m === undefined || m.deleteAt !== undefined || this.stateOf(m) === 'terminated') continue;
      m.deleteAt = now;
      changed = true;
    }
    if (changed) this.#save();
  }

  async startInstance(id: string): Promise<SimMachineRecord> {
    await this.#call('StartInstances', ['throttle', 'transient']);
    this.#load();
    const m = this.#live(id);
    const state = this.stateOf(m);
    if (state === 'stopped') {
      delete m.stopAt;
      m.readyAt = this.#clock.now() + this.#jitter(this.#config.latency.bootMs);
      this.#save();
    } else if (state === 'stopping') {
      throw new Conflict(`machine ${id} is stopping; start it once it is stopped`, {
        provider: this.#config.name,
        cause: { code: 'IncorrectInstanceState' },
        retryable: true,
      });
    }
    return m;
  }

  async stopInstance(id: string): Promise<SimMachineRecord> {
    await this.#call('StopInstances', ['throttle', 'transient']);
    this.#load();
    const m = this.#live(id);
    if (m.stopAt === undefined) {
      m.stopAt = this.#clock.now();
      this.#save();
    }
    return m;
  }

  async putNetwork(
    record: Omit<SimNetworkRecord, 'id' | 'firewallId' | 'subnets'> & {
      subnets: Omit<SimNetworkRecord['subnets'][number], 'id'>[];
    },
  ): Promise<SimNetworkRecord> {
    await this.#call('PutNetwork', ['throttle', 'transient']);
    this.#load();
    const existing = this.#state.networks.find((n) => n.name === record.name);
    const id = existing?.id ?? `net-${(++this.#state.seq).toString(36).padStart(6, '0')}`;
    const next: SimNetworkRecord = {
      id,
      name: record.name,
      cidr: record.cidr,
      subnets: record.subnets.map((s) => ({
        ...s,
        id:
          existing?.subnets.find((o) => o.name === s.name)?.id ??
          `subnet-${(++this.#state.seq).toString(36).padStart(6, '0')}`,
      })),
      firewallId: existing?.firewallId ?? `fw-${id.slice(4)}`,
      firewall: record.firewall,
      labels: record.labels,
    };
    if (existing === undefined || JSON.stringify(existing) !== JSON.stringify(next)) {
      this.#state.networks = [...this.#state.networks.filter((n) => n.name !== record.name), next];
      this.#save();
    }
    return next;
  }

  async getNetwork(name: string): Promise<SimNetworkRecord | undefined> {
    await this.#call('DescribeNetworks', ['throttle', 'transient']);
    this.#load();
    return this.#state.networks.find((n) => n.name === name);
  }

  async deleteNetwork(name: string): Promise<void> {
    await this.#call('DeleteNetwork', ['throttle', 'transient']);
    this.#load();
    const inUse = this.#state.machines.filter(
      (m) => m.network === name && this.stateOf(m) !== 'terminated',
    );
    if (inUse.length > 0)
      throw new Conflict(
        `network "${name}" is in use by ${inUse.length} machine(s), e.g. ${inUse[0]!.name}`,
        {
          provider: this.#config.name,
          cause: { code: 'DependencyViolation' },
        },
      );
    const before = this.#state.networks.length;
    this.#state.networks = this.#state.networks.filter((n) => n.name !== name);
    if (this.#state.networks.length !== before) this.#save();
  }

  /**
   * The state of a machine now, derived from its timestamps. A machine being deleted
   * is `terminated` at once, as EC2 reports `shutting-down`: it can never run again.
   */
  stateOf(m: SimMachineRecord): MachineState {
    const now = this.#clock.now();
    if (m.deleteAt !== undefined) return 'terminated';
    if (m.interruptAt !== undefined && now >= m.interruptAt) return 'terminated';
    if (m.stopAt !== undefined)
      return now >= m.stopAt + this.#config.latency.stopMs ? 'stopped' : 'stopping';
    return now >= m.readyAt ? 'running' : 'pending';
  }

  /** Why a machine was terminated by the cloud, if it was. */
  errorOf(m: SimMachineRecord): string | undefined {
    if (
      m.deleteAt === undefined &&
      m.interruptAt !== undefined &&
      this.#clock.now() >= m.interruptAt
    )
      return 'spot capacity reclaimed by the cloud (spot interruption)';
    return undefined;
  }

  /** Reclaims a spot machine now, as a spot interruption would. */
  interrupt(id: string): void {
    this.#load();
    const m = this.#live(id);
    m.interruptAt = this.#clock.now();
    this.#save();
  }

  // --- internals ---------------------------------------------------------------------

  #live(id: string): SimMachineRecord {
    const m = this.#byId.get(id);
    if (m === undefined || this.stateOf(m) === 'terminated')
      throw new NotFound(`machine ${id} not found`, {
        provider: this.#config.name,
        cause: { code: 'InvalidInstanceID.NotFound' },
      });
    return m;
  }

  /**
   * Whether a machine holds zone capacity and quota: a deleted one does until its
   * teardown ends (`latency.deleteMs`), though it reports `terminated` and leaves its
   * network at once.
   */
  #holds(m: SimMachineRecord): boolean {
    if (m.deleteAt !== undefined)
      return this.#clock.now() < m.deleteAt + this.#config.latency.deleteMs;
    return this.stateOf(m) !== 'terminated';
  }

  /**
   * Private addresses for a create on a network: for each machine, the lowest free one
   * in the subnet of its zone (else the first subnet, else the network's range),
   * skipping the first four and the last as clouds reserve them. Refused whole, as EC2
   * does, when a subnet has too few left. Undefined without a network (10.<zone>.x.y).
   */
  #addressesFor(input: RunInstancesInput): string[] | undefined {
    const net =
      input.network === undefined
        ? undefined
        : this.#state.networks.find((n) => n.name === input.network);
    if (net === undefined) return undefined;
    const used = new Set(
      this.#state.machines
        .filter((m) => m.network === net.name && this.stateOf(m) !== 'terminated')
        .map((m) => m.privateIp),
    );
    const next = new Map<string, number>();
    return input.names.map((_, i) => {
      const zone = input.zones[i] ?? input.zones[0] ?? this.#zones[0]!;
      const cidr = (net.subnets.find((s) => s.zone === zone) ?? net.subnets[0])?.cidr ?? net.cidr;
      const { first, last } = cidrRange(cidr);
      let ip = Math.max(next.get(cidr) ?? 0, first + 4);
      let text = '';
      for (; ip < last; ip++) {
        text = [ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].join('.');
        if (!used.has(text)) break;
      }
      if (ip >= last)
        throw new InsufficientCapacity(
          `no free addresses left in subnet ${cidr} of network ${net.name}`,
          {
            provider: this.#config.name,
            cause: { code: 'InsufficientFreeAddressesInSubnet' },
          },
        );
      used.add(text);
      next.set(cidr, ip + 1);
      return text;
    });
  }

  #activeCpus(zone?: string): number {
    let total = 0;
    for (const m of this.#state.machines) {
      if ((zone === undefined || m.zone === zone) && this.#holds(m)) total += m.resources.cpus;
    }
    return total;
  }

  #checkQuota(input: RunInstancesInput): void {
    const active = this.#state.machines.filter((m) => this.#holds(m));
    const { machines, cpus } = this.#config.quota;
    if (active.length + input.names.length > machines)
      throw new QuotaExceeded(
        `machine quota of ${machines} would be exceeded (${active.length} in use, ${input.names.length} asked)`,
        {
          provider: this.#config.name,
          cause: { code: 'InstanceLimitExceeded' },
        },
      );
    const used = active.reduce((n, m) => n + m.resources.cpus, 0);
    if (used + input.names.length * input.resources.cpus > cpus)
      throw new QuotaExceeded(`vCPU quota of ${cpus} would be exceeded (${used} in use)`, {
        provider: this.#config.name,
        cause: { code: 'VcpuLimitExceeded' },
      });
  }

  #checkCapacity(input: RunInstancesInput): void {
    const perZone = new Map<string, number>();
    for (const z of input.zones) perZone.set(z, (perZone.get(z) ?? 0) + input.resources.cpus);
    for (const [zone, asked] of perZone) {
      if (this.#activeCpus(zone) + asked > this.#config.zoneCapacityCpus)
        throw new InsufficientCapacity(`not enough capacity for ${input.size} in ${zone}`, {
          provider: this.#config.name,
          cause: { code: 'InsufficientInstanceCapacity' },
          details: { zone, size: input.size },
        });
    }
  }

  /** One API call: latency, rate limit, then any fault due. */
  async #call(op: string, faults: readonly SimFaultKind[]): Promise<void> {
    this.calls.set(op, (this.calls.get(op) ?? 0) + 1);
    const { apiMs } = this.#config.latency;
    if (apiMs > 0) await this.#clock.sleep(this.#jitter(apiMs));
    this.#refill();
    if (this.#tokens < 1) {
      const retryAfterMs = Math.ceil((1 - this.#tokens) * (1000 / this.#config.apiRate.perSecond));
      throw new Throttled(`rate limit exceeded (${op})`, {
        provider: this.#config.name,
        retryAfterMs,
        cause: { code: 'RequestLimitExceeded', status: 503 },
      });
    }
    this.#tokens -= 1;
    if (faults.includes('throttle') && this.#take('throttle'))
      throw new Throttled(`rate limit exceeded (${op}, injected)`, {
        provider: this.#config.name,
        cause: { code: 'RequestLimitExceeded', status: 503 },
      });
    if (faults.includes('transient') && this.#take('transient'))
      throw new ProviderError(`internal error (${op}, injected)`, {
        provider: this.#config.name,
        retryable: true,
        cause: { code: 'InternalError', status: 500 },
      });
    if (faults.includes('capacity') && this.#take('capacity'))
      throw new InsufficientCapacity(`insufficient capacity (${op}, injected)`, {
        provider: this.#config.name,
        cause: { code: 'InsufficientInstanceCapacity' },
      });
  }

  #refill(): void {
    const now = this.#clock.now();
    const { perSecond, burst } = this.#config.apiRate;
    this.#tokens = Math.min(burst, this.#tokens + ((now - this.#tokensAt) / 1000) * perSecond);
    this.#tokensAt = now;
  }

  /** True when a fault of `kind` is due now: a queued one first, else by its random rate. */
  #take(kind: SimFaultKind): boolean {
    const queued = this.#queued.find((q) => q.kind === kind && q.times > 0);
    if (queued !== undefined) {
      queued.times -= 1;
      if (queued.times === 0) this.#queued.splice(this.#queued.indexOf(queued), 1);
      return true;
    }
    const rate = this.#config.faults[kind];
    return rate > 0 && this.#random() < rate;
  }

  #jitter(ms: number): number {
    return ms <= 0 ? 0 : Math.round(ms * (0.5 + this.#random()));
  }

  #purge(): void {
    const cutoff = this.#clock.now() - TERMINATED_RETENTION_MS;
    const keep = this.#state.machines.filter(
      (m) =>
        !(this.stateOf(m) === 'terminated' && (m.deleteAt ?? m.interruptAt ?? Infinity) < cutoff),
    );
    if (keep.length !== this.#state.machines.length) {
      for (const m of this.#state.machines) if (!keep.includes(m)) this.#byId.delete(m.providerId);
      this.#state.machines = keep;
      this.#save();
    }
  }

  // NOTE: persistence reloads when the file changed since we last saw it, so several
  // kumo processes (apply, then status) see one cloud, as they would a real one.
  #load(): void {
    const path = this.#config.statePath;
    if (path === undefined || !existsSync(path)) return;
    const mtime = statSync(path).mtimeMs;
    if (mtime === this.#loadedMtime) return;
    const parsed = JSON.parse(readFileSync(path, 'utf8')) as PersistedState;
    if (parsed.version !== 1)
      throw new ProviderError(
        `sim state file ${path} has unknown version ${String(parsed.version)}`,
      );
    this.#state = parsed;
    this.#byId = new Map(parsed.machines.map((m) => [m.providerId, m]));
    this.#loadedMtime = mtime;
  }

  #save(): void {
    const path = this.#config.statePath;
    if (path === undefined) return;
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.#state), { mode: 0o600 });
    // rename is atomic: a process killed mid-write leaves the old state whole.
    renameSync(tmp, path);
    this.#loadedMtime = statSync(path).mtimeMs;
  }
}
