/**
 * Two applies at once on one datacenter: one runs, the other fails at once naming the
 * holder of the lock (or, given a lock timeout, waits and then finds nothing to do);
 * nothing is duplicated or corrupted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqliteStore } from '../../src/logical-dc/index.js';
import { cliBundle, runCli, startCli } from '../cli/cli-bundle.js';

// Booting takes a while, so the first apply still holds the lock when the second starts.
const SPEC = `name: race
providers:
  sim:
    kind: sim
    latency: { apiMs: 0, bootMs: 5000, stopMs: 0, deleteMs: 0 }
pools:
  web:
    provider: sim
    count: 40
    machine:
      resources: { cpus: 1, memoryMiB: 1024 }
      image: ubuntu-22.04
`;

let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-race-'));
  writeFileSync(join(dir, 'kumo.yaml'), SPEC);
  await cliBundle();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function liveMachines(): number {
  const file = JSON.parse(readFileSync(join(dir, '.kumo', 'sim-sim.json'), 'utf8')) as {
    machines: { deleteAt?: number }[];
  };
  return file.machines.filter((m) => m.deleteAt === undefined).length;
}

describe('two applies at once', () => {
  it('lets one run; the other fails clearly naming the holder, or waits with a lock timeout', async () => {
    const spec = join(dir, 'kumo.yaml');
    let started!: () => void;
    const working = new Promise<void>((resolve) => (started = resolve));
    const first = await startCli(['apply', '-f', spec, '--yes'], {
      cwd: dir,
      onLine: (line) => line.startsWith('journal') && started(),
    });
    await working;
    const [second, third] = await Promise.all([
      runCli(['apply', '-f', spec, '--yes'], { cwd: dir }),
      runCli(['apply', '-f', spec, '--yes', '--lock-timeout', '60'], { cwd: dir }),
    ]);
    const firstRun = await first.done;
    expect(firstRun.code, firstRun.stderr).toBe(0);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(
      new RegExp(
        `kumo: state .*state\\.db is locked by pid ${first.child.pid} on host .* \\(kumo apply, since .*\\)`,
      ),
    );
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toContain('waiting  for the state lock held by pid');
    expect(third.stdout).toContain('No changes. 40 machine(s) match the spec.');

    expect(liveMachines()).toBe(40);
    const store = sqliteStore(join(dir, '.kumo', 'state.db'));
    await store.open('race');
    const state = await store.read();
    await store.close();
    expect(state.machines.filter((m) => m.status === 'present')).toHaveLength(40);
    expect(state.intents).toEqual([]);
    expect(await runCli(['status', '-f', spec], { cwd: dir })).toMatchObject({
      code: 0,
      stdout: expect.stringContaining('unlocked'),
    });
  }, 120_000);
});
