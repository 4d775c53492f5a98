import { describe, expect, it } from 'vitest';
import { canTransition, isTerminal, TASK_STATES } from '../../src/index.js';
import { ManualExecutor, agent, harness, recorder, task } from './helpers.js';

describe('task states', () => {
  it('only move forward', () => {
    expect(canTransition('STAGING', 'STARTING')).toBe(true);
    expect(canTransition('STAGING', 'RUNNING')).toBe(true);
    expect(canTransition('RUNNING', 'STARTING')).toBe(false);
    expect(canTransition('RUNNING', 'FINISHED')).toBe(true);
  });

  it('never leave a terminal state', () => {
    for (const from of TASK_STATES.filter(isTerminal))
      for (const to of TASK_STATES) expect(canTransition(from, to)).toBe(false);
  });

  it('are terminal for FINISHED, FAILED, KILLED, LOST and DROPPED only', () => {
    expect(TASK_STATES.filter(isTerminal)).toEqual([
      'FINISHED',
      'FAILED',
      'KILLED',
      'LOST',
      'DROPPED',
    ]);
  });
});

describe('a task', () => {
  async function launched() {
    const ex = new ManualExecutor();
    const h = harness({}, ex);
    h.scheduler.addAgent(agent('a1'));
    const fw = recorder(h.scheduler);
    await h.flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1', 2, 2048)] }], {
      refuseSeconds: 60,
    });
    return { ...h, ex, fw };
  }

  it('goes STAGING → STARTING → RUNNING → FINISHED with the exit code', async () => {
    const { ex, fw, flush } = await launched();
    ex.run('t1');
    ex.finish('t1', 0);
    await flush();
    expect(fw.updates.map((u) => u.state)).toEqual(['STARTING', 'RUNNING', 'FINISHED']);
    expect(fw.updates.at(-1)).toMatchObject({
      reason: 'COMMAND_EXITED',
      exitCode: 0,
      source: 'executor',
    });
  });

  it('ends FAILED when the command exits non-zero', async () => {
    const { ex, fw, flush } = await launched();
    ex.run('t1');
    ex.finish('t1', 3);
    await flush();
    expect(fw.updates.at(-1)).toMatchObject({ state: 'FAILED', exitCode: 3 });
  });

  it('gives its resources back the moment it ends', async () => {
    const { ex, scheduler } = await launched();
    expect(scheduler.agent('a1')!.allocated.cpus).toBe(2);
    ex.finish('t1');
    expect(scheduler.agent('a1')!.allocated.cpus).toBe(0);
  });

  it('ignores reports that would move it backwards or out of a terminal state', async () => {
    const { ex, fw, flush } = await launched();
    ex.run('t1');
    ex.report('t1', { state: 'STARTING' });
    ex.finish('t1');
    ex.report('t1', { state: 'RUNNING' });
    ex.report('t1', { state: 'FAILED' });
    await flush();
    expect(fw.updates.map((u) => u.state)).toEqual(['STARTING', 'RUNNING', 'FINISHED']);
  });

  it('that the executor cannot start ends FAILED with the executor’s reason', async () => {
    const { ex, fw, flush } = await launched();
    ex.report('t1', { state: 'FAILED', reason: 'EXECUTOR_FAILED', message: 'no such shell' });
    await flush();
    expect(fw.updates).toMatchObject([
      { state: 'FAILED', reason: 'EXECUTOR_FAILED', message: 'no such shell' },
    ]);
  });

  it('whose executor throws ends FAILED instead of breaking the accept', async () => {
    const h = harness(
      {},
      {
        launch() {
          throw new Error('kaput');
        },
      },
    );
    h.scheduler.addAgent(agent('a1'));
    const fw = recorder(h.scheduler);
    await h.flush();
    fw.handle.accept([fw.offers[0]!.id], [{ type: 'launch', tasks: [task('t1')] }]);
    await h.flush();
    expect(fw.updates).toMatchObject([
      { state: 'FAILED', reason: 'EXECUTOR_FAILED', message: 'the executor threw: kaput' },
    ]);
    expect(h.scheduler.agent('a1')!.tasks).toBe(0);
  });
});
