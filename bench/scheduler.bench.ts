/**
 * Scheduler benchmarks (issue 4). Figures:
 *
 * - `scheduler.alloc_pass_ms.a<agents>_f<frameworks>`: median wall time of one
 *   allocation pass that offers every agent (all free) to frameworks in DRF order —
 *   Mesos's `HierarchicalAllocator_BENCHMARK_Test.DeclineOffers` shape: between passes
 *   every framework declines everything (refuseSeconds 0), so each pass starts from a
 *   fully free cluster. Frameworks sit in 10 sub-roles of one parent role.
 * - `scheduler.place_rate_tps.t1000000_a10000`: 1,000 jobs × 1,000 tasks (Nomad's C1M
 *   shape) submitted to the jobs framework on 10,000 agents with the instant executor;
 *   tasks placed per second of wall time, from the first submit until the jobs
 *   framework has seen all of them RUNNING.
 * - `scheduler.peak_rss_mib`: peak resident memory of the process that ran the
 *   placement bench (a child process, so other areas' benches do not count).
 *
 * Run: `npm run bench -- scheduler`. Targets and published figures: bench/README.md.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { VirtualClock } from '../src/core/index.js';
import {
  InstantExecutor,
  JobsFramework,
  Scheduler,
  type FrameworkHandle,
} from '../src/scheduler/index.js';
import { round, type Bench, type Figure } from './harness.js';

const AGENTS = [1_000, 10_000, 50_000];
const FRAMEWORKS = [10, 100, 1_000];

function makeCluster(agents: number): { clock: VirtualClock; scheduler: Scheduler } {
  const clock = new VirtualClock();
  const scheduler = new Scheduler({
    clock,
    executor: new InstantExecutor({ clock }),
    // The bench drives passes itself; offers never time out in between.
    offerTimeoutMs: 0,
  });
  for (let i = 0; i < agents; i++)
    scheduler.addAgent({
      id: `a${i}`,
      resources: { cpus: 16, memoryMiB: 65_536, diskGiB: 200, ports: [[31_000, 32_000]] },
      attributes: { zone: `z${i % 3}`, pool: 'base', labels: {} },
    });
  return { clock, scheduler };
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface PassTiming {
  wallMs: number;
  cpuMs: number;
}

/** Median wall and CPU time of one pass over `scheduler`'s agents with `frameworks` frameworks. */
async function allocPass(
  scheduler: Scheduler,
  agents: number,
  frameworks: number,
): Promise<PassTiming> {
  const outstanding: string[][] = [];
  const handles: FrameworkHandle[] = [];
  for (let f = 0; f < frameworks; f++) {
    const mine: string[] = [];
    outstanding.push(mine);
    handles.push(
      scheduler.registerFramework({
        name: `f${f}`,
        roles: [`bench/r${f % 10}`],
        on: { offers: (offers) => offers.forEach((o) => mine.push(o.id)) },
      }),
    );
  }
  const runs = agents >= 50_000 ? 3 : 5;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs + 1; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const { offers } = scheduler.allocate();
    const dt = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (offers !== agents) throw new Error(`expected ${agents} offers in a pass, got ${offers}`);
    if (i > 0) {
      // The first is a warm-up.
      wall.push(dt);
      cpu.push((c.user + c.system) / 1000);
    }
    await settle(); // offers reach the frameworks
    handles.forEach((h, f) => {
      h.decline(outstanding[f]!, { refuseSeconds: 0 });
      outstanding[f]!.length = 0;
    });
  }
  handles.forEach((h) => h.teardown());
  const median = (xs: number[]): number =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { wallMs: median(wall), cpuMs: median(cpu) };
}

/** The placement run; executed in a child process so its peak RSS is its own. */
async function placeRun(): Promise<{
  tps: number;
  seconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}> {
  const JOBS = 1_000;
  const TASKS = 1_000;
  const { clock, scheduler } = makeCluster(10_000);
  const jobs = new JobsFramework(scheduler, { name: 'c1m' });
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  for (let j = 0; j < JOBS; j++)
    jobs.submit({
      name: `job-${j}`,
      tasks: TASKS,
      resources: { cpus: 0.1, memoryMiB: 256 },
      command: 'sleep 3600',
    });
  while (jobs.stats().running < JOBS * TASKS) {
    await clock.advance(0);
    if (clock.pending === 0 && jobs.stats().running < JOBS * TASKS) await clock.advance(1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  const peakRssMiB = process.resourceUsage().maxRSS / 1024;
  await scheduler.close();
  return {
    tps: (JOBS * TASKS) / seconds,
    seconds,
    cpuSeconds: (c.user + c.system) / 1e6,
    peakRssMiB,
  };
}

export const benches: Bench[] = [
  {
    name: 'scheduler.alloc_pass',
    async run(): Promise<Figure[]> {
      const out: Figure[] = [];
      for (const a of AGENTS) {
        // One cluster per size; each framework count registers, runs, and tears down.
        const { scheduler } = makeCluster(a);
        for (const f of FRAMEWORKS) {
          const t = await allocPass(scheduler, a, f);
          out.push({
            name: `scheduler.alloc_pass_ms.a${a}_f${f}`,
            value: round(t.wallMs, 2),
            unit: 'ms',
            note: `cpu ${round(t.cpuMs, 1)} ms${a === 10_000 && f === 1_000 ? '; target < 50 ms' : ''}`,
          });
        }
        await scheduler.close();
      }
      return out;
    },
  },
  {
    name: 'scheduler.place_rate',
    async run(): Promise<Figure[]> {
      const child = spawnSync(
        process.execPath,
        ['--import', 'tsx', fileURLToPath(import.meta.url), '--place-child'],
        {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 20,
        },
      );
      if (child.status !== 0)
        throw new Error(`placement child failed with status ${child.status}: ${child.stdout}`);
      const r = JSON.parse(child.stdout.trim().split('\n').pop()!) as Awaited<
        ReturnType<typeof placeRun>
      >;
      return [
        {
          name: 'scheduler.place_rate_tps.t1000000_a10000',
          value: Math.round(r.tps),
          unit: 'tasks/s',
          note: `target > 50000; 1e6 tasks in ${round(r.seconds, 2)} s wall, ${round(r.cpuSeconds, 2)} s cpu`,
        },
        {
          name: 'scheduler.peak_rss_mib',
          value: Math.round(r.peakRssMiB),
          unit: 'MiB',
          note: 'placement run, 1e6 live tasks',
        },
      ];
    },
  },
];

if (process.argv.includes('--place-child')) {
  const r = await placeRun();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
