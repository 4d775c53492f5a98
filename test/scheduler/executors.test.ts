import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { VirtualClock } from '../../src/core/index.js';
import {
  InstantExecutor,
  LocalProcessExecutor,
  type ExecutorReport,
  type TaskLaunch,
  type TaskSink,
} from '../../src/index.js';

function launch(taskId: string, extra: Partial<TaskLaunch> = {}): TaskLaunch {
  return {
    taskId,
    frameworkId: 'fw-1',
    agentId: 'a1',
    hostname: 'a1.local',
    name: taskId,
    resources: { cpus: 0.5, memoryMiB: 256, gpus: 0, diskGiB: 0 },
    ports: [[31000, 31001]],
    command: undefined,
    env: {},
    durationMs: undefined,
    labels: {},
    ...extra,
  };
}

class Sink implements TaskSink {
  readonly reports: ExecutorReport[] = [];
  #waiters: (() => void)[] = [];
  report(update: ExecutorReport): void {
    this.reports.push(update);
    if (['FINISHED', 'FAILED', 'KILLED'].includes(update.state))
      this.#waiters.splice(0).forEach((w) => w());
  }
  get last(): ExecutorReport | undefined {
    return this.reports.at(-1);
  }
  ended(): Promise<void> {
    if (this.last !== undefined && ['FINISHED', 'FAILED', 'KILLED'].includes(this.last.state))
      return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }
}

describe('the instant executor', () => {
  it('starts tasks at once and runs them until killed', () => {
    const ex = new InstantExecutor({ clock: new VirtualClock() });
    const sink = new Sink();
    const run = ex.launch(launch('t1'), sink);
    expect(sink.reports.map((r) => r.state)).toEqual(['STARTING', 'RUNNING']);
    expect(ex.running).toBe(1);
    run.kill();
    expect(sink.last!.state).toBe('KILLED');
    expect(ex.running).toBe(0);
  });

  it('finishes a task after its duration on the injected clock', async () => {
    const clock = new VirtualClock();
    const ex = new InstantExecutor({ clock });
    const sink = new Sink();
    ex.launch(launch('t1', { durationMs: 5_000 }), sink);
    await clock.advance(4_999);
    expect(sink.last!.state).toBe('RUNNING');
    await clock.advance(1);
    expect(sink.last).toEqual({ state: 'FINISHED', reason: 'COMMAND_EXITED', exitCode: 0 });
  });

  it('lets a simulation decide how tasks end', () => {
    const ex = new InstantExecutor({ outcome: () => ({ state: 'FAILED', exitCode: 7 }) });
    const sink = new Sink();
    ex.launch(launch('t1'), sink);
    expect(sink.last).toEqual({ state: 'FAILED', reason: 'COMMAND_EXITED', exitCode: 7 });
  });

  it('reports nothing after a task ended, even if killed later', () => {
    const ex = new InstantExecutor({ outcome: () => ({ state: 'FINISHED' }) });
    const sink = new Sink();
    const run = ex.launch(launch('t1'), sink);
    run.kill();
    expect(sink.reports.map((r) => r.state)).toEqual(['STARTING', 'RUNNING', 'FINISHED']);
  });
});

describe('the local process executor', () => {
  let dir: string;
  let ex: LocalProcessExecutor;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'kumo-exec-'));
    ex = new LocalProcessExecutor({
      workDir: dir,
      killGraceMs: 2_000,
      baseEnv: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
  });
  afterEach(async () => {
    await ex.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the command with the task id and resources in its environment, output to files', async () => {
    const sink = new Sink();
    ex.launch(
      launch('t1', {
        command:
          'echo "$KUMO_TASK_ID $KUMO_TASK_CPUS $KUMO_TASK_MEMORY_MIB $PORT0 $KUMO_TASK_PORTS $GREETING"; echo oops >&2',
        env: { GREETING: 'hi' },
      }),
      sink,
    );
    await sink.ended();
    expect(sink.reports.map((r) => r.state)).toEqual(['STARTING', 'RUNNING', 'FINISHED']);
    expect(readFileSync(join(ex.sandboxOf('a1', 't1'), 'stdout'), 'utf8')).toBe(
      't1 0.5 256 31000 31000,31001 hi\n',
    );
    expect(readFileSync(join(ex.sandboxOf('a1', 't1'), 'stderr'), 'utf8')).toBe('oops\n');
  });

  it('reports a non-zero exit as FAILED with the exit code', async () => {
    const sink = new Sink();
    ex.launch(launch('t1', { command: 'exit 3' }), sink);
    await sink.ended();
    expect(sink.last).toMatchObject({ state: 'FAILED', reason: 'COMMAND_EXITED', exitCode: 3 });
  });

  it('does not pass its own environment on (no credentials leak into tasks)', async () => {
    process.env.KUMO_TEST_SECRET = 'do-not-leak';
    try {
      const plain = new LocalProcessExecutor({ workDir: dir });
      const sink = new Sink();
      plain.launch(launch('t1', { command: 'echo "[${KUMO_TEST_SECRET:-}]"' }), sink);
      await sink.ended();
      expect(readFileSync(join(dir, 'a1', 't1', 'stdout'), 'utf8')).toBe('[]\n');
    } finally {
      delete process.env.KUMO_TEST_SECRET;
    }
  });

  it('kills the whole process group on kill and reports KILLED', async () => {
    const sink = new Sink();
    const run = ex.launch(launch('t1', { command: 'sleep 30 & echo $! > child.pid; wait' }), sink);
    const pidFile = join(ex.sandboxOf('a1', 't1'), 'child.pid');
    for (let i = 0; i < 200 && !readPid(pidFile); i++) await new Promise((r) => setTimeout(r, 10));
    const child = readPid(pidFile)!;
    run.kill();
    await sink.ended();
    expect(sink.last!.state).toBe('KILLED');
    await new Promise((r) => setTimeout(r, 50));
    expect(alive(child)).toBe(false);
  });

  it('reports FAILED when there is no command to run', () => {
    const sink = new Sink();
    ex.launch(launch('t1'), sink);
    expect(sink.last).toMatchObject({ state: 'FAILED', reason: 'EXECUTOR_FAILED' });
  });

  it('reports FAILED when the shell cannot be started', async () => {
    const broken = new LocalProcessExecutor({ workDir: dir, shell: '/nonexistent/sh' });
    const sink = new Sink();
    broken.launch(launch('t1', { command: 'true' }), sink);
    await sink.ended();
    expect(sink.last).toMatchObject({ state: 'FAILED', reason: 'EXECUTOR_FAILED' });
    expect(sink.last!.message).toMatch(/ENOENT/);
  });
});

/** Running, as opposed to gone or a zombie nobody reaped yet (containers' PID 1 may not). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

function readPid(file: string): number | undefined {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
