import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  burstLogPath,
  fileBurstLog,
  readBurstLog,
  summarizeBurstLog,
  type BurstEvent,
} from '../../src/logical-dc/index.js';
import { runCli } from '../cli/run-cli.js';

const SPEC = `name: status-burst
providers:
  onprem: { kind: sim, seed: 1, latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } }
pools:
  onprem:
    provider: onprem
    count: 1
    machine: { size: std-4x16, image: ubuntu-22.04 }
`;

const AT = Date.UTC(2025, 0, 1, 12);
const machine = {
  id: 'adhoc-burst-cloud-1f2e3d4c-0',
  target: 'cloud',
  provider: 'cloud',
  size: 'gpu-4x16-1g',
  zone: 'sim-east-1a',
  spot: true,
  pricePerHour: 0.4024,
};
const EVENTS: BurstEvent[] = [
  {
    type: 'burst.held',
    at: AT,
    reason: 'cooldown',
    message: 'scale-up cooldown: 10s left',
    demand: [],
  },
  { type: 'burst.provisioned', at: AT + 1000, machine },
  { type: 'burst.running', at: AT + 61_000, id: machine.id, provider: 'cloud', bootS: 60 },
];

let dir: string;
let spec: string;
const home = process.cwd();
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-burst-status-'));
  // apply -f notes its file in ./.kumo: keep that out of the repository.
  process.chdir(dir);
  spec = join(dir, 'kumo.yaml');
  writeFileSync(spec, SPEC);
  expect((await runCli(['apply', '-f', spec, '--yes'])).code).toBe(0);
});
afterAll(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});

describe('kumo status with a burst log beside the state database', () => {
  it('shows no burst section while burst has written nothing', async () => {
    const { code, stdout } = await runCli(['status', '-f', spec, '--no-refresh']);
    expect(code).toBe(0);
    expect(stdout).not.toContain('Burst:');
  });

  it('shows the burst machines, their spend and the latest decisions', async () => {
    const log = fileBurstLog(burstLogPath(join(dir, '.kumo', 'state.db')));
    for (const e of EVENTS) log.append(e);
    const { code, stdout } = await runCli(['status', '-f', spec, '--no-refresh']);
    expect(code).toBe(0);
    expect(stdout).toContain('Burst: 1 machine(s), $0.4024/h; 1 launched, 0 released');
    expect(stdout).toContain(
      `${machine.id}  cloud  cloud/sim-east-1a  gpu-4x16-1g spot  $0.4024/h`,
    );
    expect(stdout).toContain('Recent burst decisions:');
    expect(stdout).toContain('held (cooldown): scale-up cooldown: 10s left');
  });

  it('adds the burst summary to the JSON status', async () => {
    const { stdout } = await runCli(['status', '-f', spec, '--no-refresh', '--json']);
    const status = JSON.parse(stdout) as { dc: string; burst?: { machines: { id: string }[] } };
    expect(status.dc).toBe('status-burst');
    expect(status.burst?.machines.map((m) => m.id)).toEqual([machine.id]);
  });
});

describe('the burst log', () => {
  it('still shows a machine provisioned before the log was rotated', () => {
    const path = join(dir, 'rotating', 'burst-log.jsonl');
    // Rotated just before the third event: the provisioning is in the older file.
    const firstTwo = EVENTS.slice(0, 2).map((e) => `${JSON.stringify(e)}\n`);
    const log = fileBurstLog(path, { maxBytes: Buffer.byteLength(firstTwo.join('')) - 1 });
    for (const e of EVENTS) log.append(e);
    expect(existsSync(`${path}.1`)).toBe(true);
    expect(summarizeBurstLog(readBurstLog(path)).machines.map((m) => m.id)).toEqual([machine.id]);
  });

  it('keeps machines and totals from before two rotations', () => {
    const path = join(dir, 'rotating-twice', 'burst-log.jsonl');
    const other = { ...machine, id: 'adhoc-burst-cloud-1f2e3d4c-1' };
    const released: BurstEvent = {
      type: 'burst.released',
      at: AT + 2000,
      id: other.id,
      provider: 'cloud',
      reason: 'idle',
      lifetimeS: 1,
      costUsd: 0.25,
    };
    const log = fileBurstLog(path, { maxBytes: 1 });
    // Every append past the first rotates: the provisionings end up two files back.
    for (const e of [
      ...EVENTS,
      { type: 'burst.provisioned', at: AT, machine: other } as const,
      released,
    ])
      log.append(e);
    for (let i = 0; i < 3; i++)
      log.append({ type: 'burst.warning', at: AT + 3000 + i, message: `note ${i}` });
    const summary = summarizeBurstLog(readBurstLog(path));
    expect(summary.machines.map((m) => m.id)).toEqual([machine.id]);
    expect(summary).toMatchObject({ launched: 2, released: 1, costUsd: 0.25 });
    expect(summary.recent.map((e) => e.type)).not.toContain('burst.snapshot');
  });
});
