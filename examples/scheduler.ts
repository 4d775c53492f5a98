/**
 * The scheduler end to end, on a simulated cloud and real processes:
 *
 * 1. a logical datacenter applies a pool of three machines on `sim`; each running
 *    machine becomes a scheduler agent (`new LogicalDatacenter({ …, scheduler })`);
 * 2. the built-in jobs framework (role `eng/batch`) runs six real shell commands,
 *    spread across zones, through the local process executor;
 * 3. a hand-written framework (role `eng/adhoc`) reads its events from an async
 *    iterator: it accepts one offer, declines the rest, suppresses, kills one of its
 *    tasks, reconciles and acknowledges updates;
 * 4. one agent is drained before its machine would go.
 *
 * Run from a checkout: `npx tsx examples/scheduler.ts`. In your own project import
 * the same names from `kumo` and `sim` from `kumo/sim`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  isTerminal,
  JobsFramework,
  LocalProcessExecutor,
  LogicalDatacenter,
  Scheduler,
  memoryStore,
} from '../src/index.js';
import { sim } from '../src/providers/sim/index.js';

const workDir = mkdtempSync(join(tmpdir(), 'kumo-scheduler-example-'));

// Tasks are real child processes, so the scheduler runs on the wall clock.
const scheduler = new Scheduler({
  executor: new LocalProcessExecutor({ workDir, killGraceMs: 1_000 }),
  allocationIntervalMs: 50,
  roles: {
    'eng/batch': { weight: 2 },
    'eng/adhoc': { weight: 1, quota: { limit: { cpus: 2 } } },
  },
});

const dc = new LogicalDatacenter({
  name: 'example',
  store: memoryStore(),
  providers: { onprem: sim({ name: 'onprem', latency: { apiMs: 0, bootMs: 0 } }) },
  scheduler,
});

try {
  // 1. Machines become agents.
  await dc.apply({
    pools: {
      workers: {
        provider: 'onprem',
        count: 3,
        machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
      },
    },
  });
  const agents = scheduler.agents();
  const zoneOf = new Map(agents.map((a) => [a.id, a.attributes.zone]));
  console.log(`agents: ${agents.length}`);
  for (const a of [...agents].sort((x, y) => x.attributes.zone!.localeCompare(y.attributes.zone!)))
    console.log(
      `  ${a.attributes.zone} pool=${a.attributes.pool} cpus=${a.total.cpus} memoryMiB=${a.total.memoryMiB}`,
    );

  // 2. The jobs framework: six shell commands, two per zone.
  const jobs = new JobsFramework(scheduler, { name: 'batch', role: 'eng/batch' });
  const results = join(workDir, 'results.txt');
  const jobId = jobs.submit({
    id: 'hello',
    name: 'hello',
    tasks: 6,
    resources: { cpus: 0.5, memoryMiB: 256, ports: 1 },
    constraints: [{ op: 'spread', attribute: 'zone' }],
    env: { RESULTS: results },
    command:
      'echo "$KUMO_TASK_ID cpus=$KUMO_TASK_CPUS port=$PORT0 agent=$KUMO_AGENT_ID" >> "$RESULTS"',
  });
  const [waiting] = jobs.backlog();
  console.log(`backlog: ${waiting?.count} tasks of ${waiting?.jobId} waiting for offers`);
  const done = await jobs.wait(jobId);
  console.log(`job ${done.id}: ${done.state}, ${done.finished}/${done.tasks} finished`);
  // Each task appended one line; count them per zone (the spread constraint at work).
  const perZone = new Map<string, number>();
  for (const line of readFileSync(results, 'utf8').trim().split('\n')) {
    const zone = zoneOf.get(/agent=(\S+)/.exec(line)![1]!)!;
    perZone.set(zone, (perZone.get(zone) ?? 0) + 1);
  }
  console.log(
    `  first line: ${readFileSync(results, 'utf8')
      .split('\n')[0]!
      .replace(/ agent=.*/, '')}`,
  );
  console.log(
    `  per zone: ${[...perZone]
      .sort()
      .map(([z, n]) => `${z}=${n}`)
      .join(' ')}`,
  );

  // 3. A hand-written framework on the async-iterator event stream.
  const adhoc = scheduler.registerFramework({
    name: 'adhoc',
    roles: ['eng/adhoc'],
    acknowledgements: 'explicit',
  });
  let launched = false;
  const ended = new Set<string>();
  for await (const event of adhoc.events()) {
    if (event.type === 'offers') {
      const [first, ...rest] = event.offers;
      if (!launched && first !== undefined) {
        const r = adhoc.accept(
          [first.id],
          [
            {
              type: 'launch',
              tasks: [
                { id: 'sleeper', resources: { cpus: 0.5, memoryMiB: 64 }, command: 'sleep 30' },
                { id: 'uname', resources: { cpus: 0.5, memoryMiB: 64 }, command: 'uname -s' },
              ],
            },
          ],
        );
        console.log(`adhoc: accepted ${first.id}, launched ${r.launched.join(' and ')}`);
        launched = true;
        adhoc.suppress(); // nothing more to run: no more offers, please
      }
      const unused = launched ? rest : event.offers;
      if (unused.length > 0)
        adhoc.decline(
          unused.map((o) => o.id),
          { refuseSeconds: 60 },
        );
    } else if (event.type === 'update') {
      const s = event.status;
      adhoc.acknowledge(s.taskId, s.updateId); // explicit acknowledgements: or it is re-sent
      const exit = s.exitCode === undefined ? '' : ` exit=${s.exitCode}`;
      console.log(`adhoc: ${s.taskId} ${s.state} (${s.source}, ${s.reason})${exit}`);
      if (s.source === 'reconciliation') continue;
      if (s.taskId === 'sleeper' && s.state === 'RUNNING') {
        adhoc.reconcile(['sleeper', 'ghost']); // what does the scheduler know of these?
        adhoc.kill('sleeper');
      }
      if (isTerminal(s.state)) ended.add(s.taskId);
      if (ended.size === 2) break;
    }
  }
  adhoc.teardown();

  // 4. Maintenance: drain one agent (no tasks left, so it is drained at once).
  const victim = agents[0]!;
  await scheduler.drainAgent(victim.id, { deadlineMs: 5_000 });
  console.log(`agent in ${victim.attributes.zone}: ${scheduler.agent(victim.id)!.status}`);
} finally {
  await scheduler.close();
  await dc.close();
  rmSync(workDir, { recursive: true, force: true });
}
