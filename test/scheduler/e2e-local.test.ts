import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobsFramework, LocalProcessExecutor, Scheduler } from '../../src/index.js';

describe('end to end: the jobs framework runs real shell commands on three agents', () => {
  let dir: string | undefined;
  let scheduler: Scheduler | undefined;
  afterEach(async () => {
    await scheduler?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('places, runs and finishes every task, retrying the one that fails once', async () => {
    dir = mkdtempSync(join(tmpdir(), 'kumo-e2e-'));
    const executor = new LocalProcessExecutor({ workDir: dir, killGraceMs: 1_000 });
    // The wall clock: these are real processes.
    scheduler = new Scheduler({ executor, allocationIntervalMs: 20 });
    for (const [id, zone] of [
      ['node-1', 'a'],
      ['node-2', 'b'],
      ['node-3', 'c'],
    ] as const)
      scheduler.addAgent({
        id,
        resources: { cpus: 2, memoryMiB: 2048, ports: [[41000, 41099]] },
        attributes: { zone, labels: {} },
      });
    const jobs = new JobsFramework(scheduler, { refuseSeconds: 0 });
    const marker = join(dir, 'failed-once');
    const id = jobs.submit({
      name: 'hello',
      tasks: 9,
      resources: { cpus: 0.5, memoryMiB: 128, ports: 1 },
      constraints: [{ op: 'maxPerAgent', max: 3 }],
      // Task 4 fails on its first attempt, then succeeds.
      command: [
        `case "$KUMO_TASK_ID" in *.4.0) touch ${marker}; exit 1;; esac`,
        'echo "$KUMO_TASK_ID on $KUMO_AGENT_ID port $PORT0 cpus $KUMO_TASK_CPUS"',
      ].join('\n'),
      retries: { max: 1, backoffMs: 10 },
    });
    const done = await jobs.wait(id);
    expect(done).toMatchObject({ state: 'finished', finished: 9, failed: 0, launches: 10 });

    const outputs = scheduler.snapshot().agents.flatMap((a) =>
      Array.from({ length: 9 }, (_, i) => i).flatMap((i) => {
        const runs = [0, 1].map((r) => join(executor.sandboxOf(a.id, `${id}.${i}.${r}`), 'stdout'));
        return runs.flatMap((file) => {
          try {
            return [readFileSync(file, 'utf8')];
          } catch {
            return [];
          }
        });
      }),
    );
    const lines = outputs.filter((o) => o.length > 0);
    expect(lines).toHaveLength(9);
    for (const line of lines)
      expect(line).toMatch(/^job-1\.\d\.\d on node-\d port 410\d\d cpus 0\.5\n$/);
    // At most three at a time per agent: every agent ran some (the retried one may have moved).
    const perAgent = lines.reduce<Record<string, number>>((m, l) => {
      const agent = /on (node-\d)/.exec(l)![1]!;
      return { ...m, [agent]: (m[agent] ?? 0) + 1 };
    }, {});
    expect(Object.keys(perAgent).sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(Object.values(perAgent).every((n) => n >= 2 && n <= 4)).toBe(true);
    expect(readFileSync(marker, 'utf8')).toBe('');
    expect(scheduler.agents().every((a) => a.tasks === 0)).toBe(true);
  });
});
