import { vi } from 'vitest';
import { ProviderError, VirtualClock } from '../../src/core/index.js';
import {
  BurstController,
  DatacenterSpecSchema,
  LogicalDatacenter,
  memoryStore,
  type BurstEvent,
  type BurstPolicyInput,
  type DatacenterSpecInput,
  type StateStore,
} from '../../src/logical-dc/index.js';
import { sim, type SimOptions, type SimProviderHandle } from '../../src/providers/sim/index.js';
import { InstantExecutor, JobsFramework, Scheduler } from '../../src/scheduler/index.js';

/**
 * Waits for `promise`, moving the virtual clock only when it waits on a timer (a rate
 * limiter's pause, say), so time does not jump past what the test means to look at.
 */
export async function drive<T>(clock: VirtualClock, promise: Promise<T>): Promise<T> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let steps = 0; steps < 10_000; steps++) {
    for (let i = 0; i < 20 && !settled; i++) await new Promise((r) => setImmediate(r));
    if (settled) break;
    if (!(await clock.step())) break;
  }
  return promise;
}

export const BASE_SPEC = {
  pools: {
    onprem: {
      provider: 'onprem',
      count: 1,
      machine: { size: 'std-4x16', image: 'ubuntu-22.04' },
    },
  },
} satisfies DatacenterSpecInput;

export const TARGET = {
  name: 'cloud',
  provider: 'cloud',
  machine: { image: 'ubuntu-22.04' },
  sizes: ['cpu-2x4', 'cpu-4x8', 'cpu-8x16', 'std-4x16'],
  maxMachines: 10,
};

export interface World {
  readonly clock: VirtualClock;
  readonly scheduler: Scheduler;
  readonly jobs: JobsFramework;
  readonly dc: LogicalDatacenter;
  readonly store: StateStore;
  readonly providers: Record<string, SimProviderHandle>;
  readonly controller: BurstController;
  readonly events: BurstEvent[];
  /** Events of one type. */
  of<T extends BurstEvent['type']>(type: T): Extract<BurstEvent, { type: T }>[];
  /** Runs one decision to its end. */
  tick(): ReturnType<BurstController['tick']>;
  /** Moves time on by `ms`, firing everything due. */
  advance(ms: number): Promise<void>;
  /**
   * Waiting work past pendingFor (30 s), a decision that buys, the machines' boot
   * (at most 15 s, 20 s given) and a decision that sees them run: the work is on them.
   */
  burstUp(): Promise<void>;
}

export interface WorldOptions {
  readonly policy?: Partial<BurstPolicyInput>;
  readonly cloud?: SimOptions;
  readonly other?: SimOptions;
  readonly store?: StateStore;
  readonly start?: boolean;
}

/**
 * A datacenter of one 4-vCPU base machine (`onprem`) and two sim clouds (`cloud`,
 * `other`) booting in 5–15 s, with a scheduler, the jobs framework and a burst
 * controller (not started: tests call `tick()` unless `start` is set).
 */
export async function world(options: WorldOptions = {}): Promise<World> {
  const clock = new VirtualClock({ start: Date.UTC(2025, 0, 1) });
  const latency = { apiMs: 0, bootMs: 10_000, stopMs: 0, deleteMs: 0 };
  const providers = {
    onprem: sim({ name: 'onprem', seed: 1, region: 'dc-1', zones: ['dc-1a'], latency }, { clock }),
    cloud: sim({ name: 'cloud', seed: 2, latency, ...options.cloud }, { clock }),
    other: sim({ name: 'other', seed: 3, region: 'sim-2', latency, ...options.other }, { clock }),
  };
  const scheduler = new Scheduler({
    clock,
    executor: new InstantExecutor({ clock }),
    offerTimeoutMs: 0,
  });
  const store = options.store ?? memoryStore();
  const dc = new LogicalDatacenter({ name: 'burst-test', store, providers, scheduler, clock });
  await drive(clock, dc.apply(BASE_SPEC));
  const jobs = new JobsFramework(scheduler);
  const policy: BurstPolicyInput = {
    basePools: ['onprem'],
    targets: [TARGET],
    budgetPerHour: 10,
    pendingFor: '30s',
    idleFor: '2m',
    interval: '15s',
    ...options.policy,
  };
  const controller = new BurstController({
    dc,
    policy,
    spec: DatacenterSpecSchema.parse(BASE_SPEC),
    clock,
  });
  const events: BurstEvent[] = [];
  controller.events.on((e) => events.push(e));
  if (options.start) await drive(clock, controller.start());
  return {
    clock,
    scheduler,
    jobs,
    dc,
    store,
    providers,
    controller,
    events,
    of: <T extends BurstEvent['type']>(type: T) =>
      events.filter((e): e is Extract<BurstEvent, { type: T }> => e.type === type),
    tick: () => drive(clock, controller.tick()),
    advance: async (ms) => {
      await clock.advance(ms);
    },
    burstUp: async () => {
      await clock.advance(30_000);
      await drive(clock, controller.tick());
      await clock.advance(20_000);
      await drive(clock, controller.tick());
      await clock.advance(0);
    },
  };
}

/**
 * Makes one method of the `cloud` provider fail, as the datacenter calls it, while the
 * returned switch is on (it starts on).
 */
export function failingCloud(w: World, method: 'deleteMachines' | 'listMachines'): { on: boolean } {
  const failing = { on: true };
  const providers = w.dc.providers;
  const get = providers.get.bind(providers);
  vi.spyOn(providers, 'get').mockImplementation((name) => {
    const provider = get(name);
    if (name !== 'cloud' || provider === undefined) return provider;
    return new Proxy(provider, {
      get: (target, prop) =>
        prop === method && failing.on
          ? () => Promise.reject(new ProviderError('the cloud API is down'))
          : (Reflect.get(target, prop) as unknown),
    });
  });
  return failing;
}
