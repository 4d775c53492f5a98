import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../core/index.js';
import type { Executor, ExecutorReport, TaskLaunch, TaskRun, TaskSink } from './executor.js';

export interface LocalProcessExecutorOptions {
  /** Root of the task sandboxes: `<workDir>/<agentId>/<taskId>/` holds `stdout` and `stderr`. */
  workDir: string;
  /** Shell that runs `command` with `-c`. Default `/bin/sh`. */
  shell?: string;
  /** Time between SIGTERM and SIGKILL when a task is killed. Default 5000 ms. */
  killGraceMs?: number;
  /**
   * Environment every task starts from. Default: `PATH`, `HOME`, `LANG` and `TMPDIR`
   * of this process — never the rest, so cloud credentials in the controller's
   * environment do not leak into tasks.
   */
  baseEnv?: Record<string, string>;
  /** Clock for the kill grace period. */
  clock?: Clock;
}

const MAX_PORT_VARS = 100;

/** The environment a task's command sees. */
export function taskEnvironment(
  task: TaskLaunch,
  sandbox: string,
  base: Record<string, string>,
): Record<string, string> {
  const ports: number[] = [];
  for (const [b, e] of task.ports)
    for (let p = b; p <= e && ports.length < 65536; p++) ports.push(p);
  const env: Record<string, string> = {
    ...base,
    ...task.env,
    KUMO_TASK_ID: task.taskId,
    KUMO_FRAMEWORK_ID: task.frameworkId,
    KUMO_AGENT_ID: task.agentId,
    KUMO_HOSTNAME: task.hostname,
    KUMO_SANDBOX: sandbox,
    KUMO_TASK_CPUS: String(task.resources.cpus),
    KUMO_TASK_MEMORY_MIB: String(task.resources.memoryMiB),
    KUMO_TASK_GPUS: String(task.resources.gpus),
    KUMO_TASK_DISK_GIB: String(task.resources.diskGiB),
    KUMO_TASK_PORTS: ports.join(','),
  };
  // Marathon's convention, which many programs already read.
  ports.slice(0, MAX_PORT_VARS).forEach((p, i) => (env[`PORT${i}`] = String(p)));
  if (ports.length > 0) env.PORT = String(ports[0]);
  return env;
}

function defaultBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  return env;
}

/**
 * Runs each task as a real child process on this machine: `sh -c <command>` in its own
 * sandbox directory and process group, stdout and stderr written to files there, the
 * task's id and resources in its environment (`KUMO_TASK_ID`, `KUMO_TASK_CPUS`,
 * `KUMO_TASK_MEMORY_MIB`, `KUMO_TASK_PORTS`, `PORT0`…). Exit code 0 → `FINISHED`,
 * anything else → `FAILED`; a kill sends SIGTERM to the group, then SIGKILL after the
 * grace period, and reports `KILLED`.
 *
 * Resources are not enforced (no cgroups): they are what the scheduler accounted for.
 *
 * @example
 * ```ts
 * const executor = new LocalProcessExecutor({ workDir: '.kumo/sandboxes' });
 * const scheduler = new Scheduler({ executor });
 * ```
 */
export class LocalProcessExecutor implements Executor {
  readonly #workDir: string;
  readonly #shell: string;
  readonly #graceMs: number;
  readonly #baseEnv: Record<string, string>;
  readonly #clock: Clock;
  readonly #children = new Set<ChildProcess>();
  readonly #exits = new Set<Promise<void>>();
  #closing = false;

  constructor(options: LocalProcessExecutorOptions) {
    this.#workDir = options.workDir;
    this.#shell = options.shell ?? '/bin/sh';
    this.#graceMs = options.killGraceMs ?? 5000;
    this.#baseEnv = options.baseEnv ?? defaultBaseEnv();
    this.#clock = options.clock ?? systemClock;
  }

  /** Where a task's files go. */
  sandboxOf(agentId: string, taskId: string): string {
    return join(this.#workDir, agentId, taskId);
  }

  launch(task: TaskLaunch, sink: TaskSink): TaskRun {
    const report = (update: ExecutorReport): void => sink.report(update);
    let done = false;
    let killRequested = false;
    let cancelEscalation: (() => void) | undefined;
    const finish = (update: ExecutorReport): void => {
      if (done) return;
      done = true;
      cancelEscalation?.();
      report(update);
    };
    if (task.command === undefined || task.command.trim() === '') {
      finish({
        state: 'FAILED',
        reason: 'EXECUTOR_FAILED',
        message: `task ${task.taskId} has no command to run`,
      });
      return { kill() {} };
    }
    const sandbox = this.sandboxOf(task.agentId, task.taskId);
    let child: ChildProcess;
    try {
      mkdirSync(sandbox, { recursive: true });
      const out = openSync(join(sandbox, 'stdout'), 'w');
      const err = openSync(join(sandbox, 'stderr'), 'w');
      try {
        report({ state: 'STARTING' });
        child = spawn(this.#shell, ['-c', task.command], {
          cwd: sandbox,
          env: taskEnvironment(task, sandbox, this.#baseEnv),
          stdio: ['ignore', out, err],
          // Its own process group, so a kill reaches everything the command started.
          detached: true,
        });
      } finally {
        // The child holds its own copies of the descriptors.
        closeSync(out);
        closeSync(err);
      }
    } catch (error) {
      finish({
        state: 'FAILED',
        reason: 'EXECUTOR_FAILED',
        message: `could not start: ${(error as Error).message}`,
      });
      return { kill() {} };
    }
    this.#children.add(child);
    let exited!: () => void;
    const exit = new Promise<void>((resolve) => (exited = resolve));
    this.#exits.add(exit);
    const signalGroup = (signal: NodeJS.Signals): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, signal);
      } catch {
        // Already gone: the exit handler reports it.
      }
    };
    child.once('spawn', () => {
      if (killRequested) signalGroup('SIGTERM');
      else if (!done) report({ state: 'RUNNING' });
    });
    child.once('error', (error) => {
      this.#children.delete(child);
      this.#exits.delete(exit);
      exited();
      finish({
        state: 'FAILED',
        reason: 'EXECUTOR_FAILED',
        message: `could not start: ${error.message}`,
      });
    });
    child.once('exit', (code, signal) => {
      this.#children.delete(child);
      this.#exits.delete(exit);
      exited();
      if (killRequested || this.#closing)
        finish({
          state: 'KILLED',
          reason: 'COMMAND_SIGNALED',
          message: `killed (${signal ?? `exit ${code}`})`,
        });
      else if (code === 0) finish({ state: 'FINISHED', reason: 'COMMAND_EXITED', exitCode: 0 });
      else if (code !== null)
        finish({
          state: 'FAILED',
          reason: 'COMMAND_EXITED',
          exitCode: code,
          message: `exited with code ${code}`,
        });
      else
        finish({
          state: 'FAILED',
          reason: 'COMMAND_SIGNALED',
          message: `ended by ${signal ?? 'a signal'}`,
        });
    });
    return {
      kill: () => {
        if (done || killRequested) return;
        killRequested = true;
        signalGroup('SIGTERM');
        cancelEscalation = this.#clock.schedule(this.#graceMs, () => signalGroup('SIGKILL'));
      },
    };
  }

  /** Kills every task still running (SIGKILL) and waits for them to exit. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const child of this.#children) {
      if (child.pid === undefined) continue;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await Promise.all([...this.#exits]);
  }
}
