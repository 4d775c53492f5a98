import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');

describe('examples/scheduler.ts (shown in the README)', () => {
  it('runs to the end: agents from the datacenter, the job finished, the hand-written framework answered', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', join(root, 'examples', 'scheduler.ts')],
      { cwd: root, timeout: 60_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('agents: 3');
    expect(stdout).toContain('backlog: 6 tasks of hello waiting for offers');
    expect(stdout).toContain('job hello: finished, 6/6 finished');
    expect(stdout).toMatch(/first line: hello\.\d\.0 cpus=0\.5 port=310\d\d\n/);
    expect(stdout).toContain('per zone: sim-1a=2 sim-1b=2 sim-1c=2');
    expect(stdout).toMatch(/adhoc: accepted o\d+, launched sleeper and uname/);
    expect(stdout).toContain('adhoc: sleeper RUNNING (reconciliation, RECONCILIATION)');
    expect(stdout).toContain('adhoc: ghost LOST (reconciliation, TASK_UNKNOWN)');
    expect(stdout).toContain('adhoc: sleeper KILLED (executor, KILLED_BY_FRAMEWORK)');
    expect(stdout).toContain('adhoc: uname FINISHED (executor, COMMAND_EXITED) exit=0');
    expect(lines.at(-1)).toMatch(/^agent in sim-1[abc]: drained$/);
  });
});
