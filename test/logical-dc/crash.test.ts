/**
 * The crash test: a `kumo apply` of 200 machines on a file-persisted sim cloud is
 * killed with SIGKILL at random points, 30 times in a row; one more apply must then
 * leave exactly the declared machines, none duplicated or orphaned, and state must
 * match the cloud.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/index.js';
import { sqliteStore } from '../../src/logical-dc/index.js';
import { cliBundle, runCli, startCli } from '../cli/cli-bundle.js';

const MACHINES = 200;
const KILLS = 30;
const SEED = Number(process.env['KUMO_CRASH_SEED'] ?? 20240601);

const SPEC = `name: crash
providers:
  sim:
    kind: sim
    latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 }
    apiRate: { perSecond: 100000, burst: 100000 }
pools:
  web:
    provider: sim
    count: ${MACHINES}
    machine:
      resources: { cpus: 1, memoryMiB: 1024 }
      image: ubuntu-22.04
`;

interface SimFile {
  machines: {
    providerId: string;
    name: string;
    labels: Record<string, string>;
    deleteAt?: number;
  }[];
}

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-crash-'));
  writeFileSync(join(dir, 'kumo.yaml'), SPEC);
  await cliBundle();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cloudMachines(): SimFile['machines'] {
  try {
    const file = JSON.parse(readFileSync(join(dir, '.kumo', 'sim-sim.json'), 'utf8')) as SimFile;
    return file.machines.filter((m) => m.deleteAt === undefined && m.labels['kumo-dc'] === 'crash');
  } catch {
    return [];
  }
}

describe('crash safety', () => {
  it(`an apply of ${MACHINES} machines killed ${KILLS} times in a row ends with exactly the declared machines`, async () => {
    const random = seededRandom(SEED);
    const args = [
      'apply',
      '-f',
      join(dir, 'kumo.yaml'),
      '--yes',
      '--batch-size',
      '5',
      '--parallelism',
      '4',
    ];
    const counts: number[] = [];
    let killedMidway = 0;
    for (let i = 0; i < KILLS; i++) {
      // Most kills land while the apply works: after a random number of its progress
      // lines (journal, created, …) plus a few ms, so between or during a journal commit,
      // a cloud call and the commit that records it. A few land at random in start-up.
      const early = random() < 0.15;
      const afterLines = 1 + Math.floor(random() * 20);
      const delay = Math.floor(random() * (early ? 400 : 15));
      let timer: NodeJS.Timeout | undefined;
      let journaled = false;
      let lines = 0;
      const { child, done } = await startCli(args, {
        cwd: dir,
        onLine: (line, proc) => {
          lines++;
          if (line.startsWith('journal')) journaled = true;
          if (!early && timer === undefined && lines >= afterLines)
            timer = setTimeout(() => proc.kill('SIGKILL'), delay);
        },
      });
      if (early) timer = setTimeout(() => child.kill('SIGKILL'), delay);
      const run = await done;
      clearTimeout(timer);
      if (run.signal === 'SIGKILL' && journaled) killedMidway++;
      // A run that finished before the kill must have succeeded.
      if (run.signal === null) expect(run.code, run.stderr).toBe(0);
      counts.push(cloudMachines().length);
    }
    // The kills really interrupted work in progress, at different points.
    const note = `seed ${SEED}, machines after each kill: ${counts.join(',')}`;
    if (process.env['KUMO_CRASH_LOG']) console.log(note, `killed midway: ${killedMidway}`);
    expect(killedMidway, note).toBeGreaterThanOrEqual(10);
    expect(
      counts.some((c) => c > 0 && c < MACHINES),
      note,
    ).toBe(true);

    const final = await runCli(args, { cwd: dir });
    expect(final.code, final.stdout + final.stderr).toBe(0);

    const machines = cloudMachines();
    expect(machines).toHaveLength(MACHINES);
    expect(new Set(machines.map((m) => m.name)).size).toBe(MACHINES);
    const store = sqliteStore(join(dir, '.kumo', 'state.db'));
    await store.open('crash');
    const state = await store.read();
    await store.close();
    expect(state.intents).toEqual([]);
    const present = state.machines.filter((m) => m.status === 'present');
    expect(present).toHaveLength(MACHINES);
    expect(present.map((m) => m.providerId).sort()).toEqual(
      machines.map((m) => m.providerId).sort(),
    );
    expect(state.machines.every((m) => m.machine.state === 'running')).toBe(true);

    const plan = await runCli(['plan', '-f', join(dir, 'kumo.yaml')], { cwd: dir });
    expect(plan.stdout).toContain(`No changes. ${MACHINES} machine(s) match the spec.`);
    expect(plan.stdout).not.toContain('orphan');
  }, 240_000);
});
