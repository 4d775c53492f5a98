import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import { Scheduler, isTerminal, type Resources, type SchedulerSnapshot } from '../../src/index.js';
import { ManualExecutor, recorder, type Recorder } from './helpers.js';

/** One step of a random history; indices pick among what exists at that moment. */
type Op =
  | { kind: 'addAgent'; cpus: number; mem: number; reserve: boolean }
  | { kind: 'removeAgent'; i: number }
  | { kind: 'loseAgent'; i: number }
  | { kind: 'drainAgent'; i: number; deadline: number | undefined }
  | { kind: 'register'; role: number; failover: number; explicit: boolean }
  | { kind: 'disconnect'; f: number }
  | { kind: 'reconnect'; f: number }
  | { kind: 'teardown'; f: number }
  | { kind: 'act'; f: number; choices: number[]; refuse: number }
  | { kind: 'finish'; i: number; failed: boolean }
  | { kind: 'kill'; i: number }
  | { kind: 'suppress'; f: number; on: boolean }
  | { kind: 'advance'; ms: number };

const ROLES = ['*', 'r1', 'eng/batch'];

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('addAgent' as const),
      cpus: fc.integer({ min: 1, max: 8 }),
      mem: fc.integer({ min: 1, max: 16 }),
      reserve: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeAgent' as const), i: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('loseAgent' as const), i: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('drainAgent' as const),
      i: fc.nat(),
      deadline: fc.option(fc.integer({ min: 0, max: 4000 }), { nil: undefined }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('register' as const),
      role: fc.nat(ROLES.length - 1),
      failover: fc.constantFrom(0, 3000, 60_000),
      explicit: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('disconnect' as const), f: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reconnect' as const), f: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('teardown' as const), f: fc.nat() }) },
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('act' as const),
      f: fc.nat(),
      choices: fc.array(fc.nat(9), { maxLength: 6 }),
      refuse: fc.constantFrom(0, 0, 2),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('finish' as const),
      i: fc.nat(),
      failed: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('kill' as const), i: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('suppress' as const), f: fc.nat(), on: fc.boolean() }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 3000 }),
    }),
  },
);

const DIMS = ['cpus', 'memoryMiB', 'gpus', 'diskGiB'] as const;
const zero = (): Resources => ({ cpus: 0, memoryMiB: 0, gpus: 0, diskGiB: 0 });
const add = (a: Resources, b: Resources): void => DIMS.forEach((d) => (a[d] += b[d]));
/** Compares in thousandths of a cpu, the scheduler's own unit. */
const milli = (r: Resources): number[] => DIMS.map((d) => Math.round(r[d] * 1000));

function portsOverlap(ranges: (readonly [number, number])[]): boolean {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0]);
  return sorted.some((r, i) => i > 0 && r[0] <= sorted[i - 1]![1]);
}

/** The book-keeping the scheduler reports agrees with what offers and tasks actually hold. */
function checkAccounting(s: SchedulerSnapshot): void {
  for (const a of s.agents) {
    const held = zero();
    const ports: (readonly [number, number])[] = [];
    for (const t of s.tasks) {
      if (t.agentId !== a.id || isTerminal(t.state)) continue;
      add(held, t.resources);
      ports.push(...t.ports);
    }
    for (const o of s.offers) {
      if (o.agentId !== a.id) continue;
      add(held, o.resources);
      ports.push(...o.ports);
    }
    // Never over-allocated, and the counters equal the truth.
    expect(milli(held), `agent ${a.id} holdings`).toEqual(milli(a.allocated));
    DIMS.forEach((d) => expect(held[d]).toBeLessThanOrEqual(a.total[d] + 1e-9));
    // Offered and used ports are the agent's, each at most once.
    expect(portsOverlap(ports), `agent ${a.id} ports`).toBe(false);
    for (const [b, e] of ports)
      expect(a.total.ports.some(([tb, te]) => tb <= b && e <= te)).toBe(true);
  }
  for (const o of s.offers) {
    const a = s.agents.find((x) => x.id === o.agentId);
    // Offered resources are on an agent that is still there and offering.
    expect(a?.status, `offer ${o.id} agent`).toBe('active');
  }
  for (const f of s.frameworks) {
    for (const [role, alloc] of Object.entries(f.allocated)) {
      const held = zero();
      for (const t of s.tasks)
        if (t.frameworkId === f.id && t.role === role && !isTerminal(t.state))
          add(held, t.resources);
      for (const o of s.offers)
        if (o.frameworkId === f.id && o.role === role) add(held, o.resources);
      expect(milli(held), `framework ${f.id} in ${role}`).toEqual(milli(alloc));
    }
  }
}

interface Slot {
  rec: Recorder;
  spec: {
    name: string;
    roles: string[];
    failoverTimeoutMs: number;
    acknowledgements: 'implicit' | 'explicit';
  };
  state: 'connected' | 'disconnected' | 'gone';
  disconnectedAt: number;
}

async function play(ops: Op[]): Promise<void> {
  const clock = new VirtualClock();
  const ex = new ManualExecutor();
  const scheduler = new Scheduler({
    clock,
    executor: ex,
    offerTimeoutMs: 5_000,
    allocationIntervalMs: 500,
  });
  const flush = (ms = 0) => clock.advance(ms);
  const agents: string[] = [];
  const slots: Slot[] = [];
  let agentSeq = 0;
  let taskSeq = 0;
  const pick = <T>(list: T[], i: number): T | undefined =>
    list.length === 0 ? undefined : list[i % list.length];
  const connected = () => slots.filter((s) => s.state === 'connected');
  const liveTasks = () => scheduler.snapshot().tasks.filter((t) => !isTerminal(t.state));

  for (const op of ops) {
    switch (op.kind) {
      case 'addAgent': {
        const id = `a${agentSeq++}`;
        scheduler.addAgent({
          id,
          resources: { cpus: op.cpus, memoryMiB: op.mem * 1024, ports: [[31000, 31004]] },
          reservations: op.reserve ? { r1: { cpus: Math.min(1, op.cpus), memoryMiB: 512 } } : {},
        });
        agents.push(id);
        break;
      }
      case 'removeAgent':
      case 'loseAgent': {
        const id = pick(agents, op.i);
        if (id === undefined) break;
        // Every live task there whose framework is listening must hear LOST exactly once.
        const expected = liveTasks()
          .filter((t) => t.agentId === id)
          .map((t) => ({
            t,
            slot: slots.find((s) => s.state === 'connected' && s.rec.handle.id === t.frameworkId),
          }))
          .filter((x) => x.slot !== undefined);
        if (op.kind === 'loseAgent') scheduler.markAgentLost(id);
        else scheduler.removeAgent(id);
        agents.splice(agents.indexOf(id), 1);
        await flush();
        for (const { t, slot } of expected) {
          const lost = slot!.rec.updates.filter((u) => u.taskId === t.id && u.state === 'LOST');
          expect(lost, `task ${t.id} on ${id}`).toHaveLength(1);
        }
        break;
      }
      case 'drainAgent': {
        const id = pick(agents, op.i);
        if (id !== undefined) void scheduler.drainAgent(id, { deadlineMs: op.deadline });
        break;
      }
      case 'register': {
        const spec = {
          name: `f${slots.length}`,
          roles: [ROLES[op.role]!],
          failoverTimeoutMs: op.failover,
          acknowledgements: op.explicit ? ('explicit' as const) : ('implicit' as const),
        };
        slots.push({ rec: recorder(scheduler, spec), spec, state: 'connected', disconnectedAt: 0 });
        break;
      }
      case 'disconnect': {
        const slot = pick(connected(), op.f);
        if (slot === undefined) break;
        slot.rec.handle.disconnect();
        slot.state = slot.spec.failoverTimeoutMs === 0 ? 'gone' : 'disconnected';
        slot.disconnectedAt = clock.now();
        break;
      }
      case 'reconnect': {
        const slot = pick(
          slots.filter(
            (s) =>
              s.state === 'disconnected' &&
              clock.now() - s.disconnectedAt < s.spec.failoverTimeoutMs,
          ),
          op.f,
        );
        if (slot === undefined) break;
        slot.rec = recorder(scheduler, { ...slot.spec, id: slot.rec.handle.id });
        slot.state = 'connected';
        break;
      }
      case 'teardown': {
        const slot = pick(connected(), op.f);
        if (slot === undefined) break;
        slot.rec.handle.teardown();
        slot.state = 'gone';
        break;
      }
      case 'act': {
        const slot = pick(connected(), op.f);
        if (slot === undefined) break;
        const offers = slot.rec.outstanding();
        offers.forEach((offer, k) => {
          const choice = op.choices[k] ?? 0;
          if (choice < 3) {
            slot.rec.handle.decline([offer.id], { refuseSeconds: op.refuse });
            return;
          }
          const tasks = Array.from({ length: choice % 4 }, (_, j) => ({
            id: `t${taskSeq++}`,
            resources: {
              cpus: [0.5, 1, 1.5][j % 3]!,
              memoryMiB: 512 * (1 + (choice % 3)),
              ports: j % 2,
            },
          }));
          if (tasks.length === 0) slot.rec.handle.decline([offer.id], { refuseSeconds: op.refuse });
          else
            slot.rec.handle.accept([offer.id], [{ type: 'launch', tasks }], {
              refuseSeconds: op.refuse,
            });
        });
        break;
      }
      case 'finish': {
        const t = pick(liveTasks(), op.i);
        if (t !== undefined) {
          ex.run(t.id);
          ex.finish(t.id, op.failed ? 1 : 0);
        }
        break;
      }
      case 'kill': {
        const t = pick(liveTasks(), op.i);
        const slot = t && connected().find((s) => s.rec.handle.id === t.frameworkId);
        if (t !== undefined && slot !== undefined) slot.rec.handle.kill(t.id);
        break;
      }
      case 'suppress': {
        const slot = pick(connected(), op.f);
        if (slot === undefined) break;
        if (op.on) slot.rec.handle.suppress();
        else slot.rec.handle.revive();
        break;
      }
      case 'advance':
        await flush(op.ms);
        for (const s of slots)
          if (
            s.state === 'disconnected' &&
            clock.now() - s.disconnectedAt >= s.spec.failoverTimeoutMs
          )
            s.state = 'gone';
        break;
    }
    await flush();
    checkAccounting(scheduler.snapshot());
  }

  // No framework ever hears two terminal updates for one task.
  for (const s of slots) {
    const terminal = new Map<string, number>();
    for (const u of s.rec.updates)
      if (isTerminal(u.state) && u.source !== 'reconciliation')
        terminal.set(u.taskId, (terminal.get(u.taskId) ?? 0) + 1);
    for (const [id, n] of terminal)
      expect(n, `terminal updates of ${id}`).toBeLessThanOrEqual(
        s.spec.acknowledgements === 'explicit' ? Infinity : 1,
      );
  }

  // Once every task has ended and every framework is gone, nothing is left allocated.
  for (const s of connected()) s.rec.handle.teardown();
  await flush(120_000);
  const end = scheduler.snapshot();
  expect(end.tasks).toEqual([]);
  expect(end.offers).toEqual([]);
  expect(end.frameworks).toEqual([]);
  for (const a of end.agents)
    expect(milli(a.allocated), `agent ${a.id} after the end`).toEqual([0, 0, 0, 0]);
  for (const r of end.roles)
    expect(milli(r.allocated), `role ${r.role} after the end`).toEqual([0, 0, 0, 0]);
  await scheduler.close();
}

describe('the scheduler, over random histories', () => {
  it('never over-allocates, offers only what is free, reports LOST once per task, and leaks nothing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 5, maxLength: 40 }), (ops) => play(ops)),
      { numRuns: 100 },
    );
  });
});

describe('DRF, for identical frameworks', () => {
  it('keeps every framework within one task of the others once the cluster is full', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 }),
        async (n, capacities) => {
          const clock = new VirtualClock();
          const scheduler = new Scheduler({
            clock,
            executor: new ManualExecutor(),
            offerTimeoutMs: 0,
          });
          capacities.forEach((c, i) =>
            scheduler.addAgent({ id: `a${i}`, resources: { cpus: c, memoryMiB: c * 1024 } }),
          );
          const counts = new Array<number>(n).fill(0);
          let launched = 0;
          const frameworks = Array.from({ length: n }, (_, f) => {
            const fw = scheduler.registerFramework({
              name: `same-${f}`,
              on: {
                // Each wants more than the cluster holds: one task per offer, the rest handed back.
                offers: (offers) => {
                  for (const o of offers) {
                    if (o.resources.cpus >= 1 && o.resources.memoryMiB >= 1024) {
                      fw.accept(
                        [o.id],
                        [
                          {
                            type: 'launch',
                            tasks: [
                              { id: `f${f}-${counts[f]}`, resources: { cpus: 1, memoryMiB: 1024 } },
                            ],
                          },
                        ],
                        { refuseSeconds: 0 },
                      );
                      counts[f]!++;
                      launched++;
                    } else fw.decline([o.id], { refuseSeconds: 3600 });
                  }
                },
              },
            });
            return fw;
          });
          const total = capacities.reduce((a, b) => a + b, 0);
          for (let round = 0; round < 4 * total + 10 && launched < total; round++) {
            scheduler.allocate();
            await new Promise((r) => setImmediate(r));
          }
          expect(launched).toBe(total);
          expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
          // Dominant shares are the same counts, divided by the cluster's cpus.
          const shares = scheduler.snapshot().frameworks.map((f) => f.shares['*']!);
          expect(Math.max(...shares) - Math.min(...shares)).toBeLessThanOrEqual(1 / total + 1e-9);
          frameworks.forEach((fw) => fw.teardown());
          await scheduler.close();
        },
      ),
      { numRuns: 100 },
    );
  });
});
