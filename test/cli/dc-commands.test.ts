import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from './run-cli.js';
import { sqliteStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { SimProvider } from '../../src/providers/sim/sim-provider.js';

const FAST = '{ apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 }';
const spec = (webCount: number, extra = '') => `name: clitest
providers:
  onprem:
    kind: sim
    seed: 1
    latency: ${FAST}
  cloud:
    kind: sim
    seed: 2
    latency: ${FAST}
networks:
  lan: { provider: onprem, cidr: 10.0.0.0/16 }
pools:
  db:
    provider: onprem
    count: 2
    network: lan
    machine: { resources: { cpus: 4, memoryMiB: 16384 }, image: ubuntu-22.04, labels: { role: db } }
  web:
    provider: cloud
    count: ${webCount}
    machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: ubuntu-22.04 }
${extra}`;

let dir: string;
let file: string;
const home = process.cwd();
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-cli-'));
  file = join(dir, 'kumo.yaml');
  // apply -f notes its file in ./.kumo: keep that out of the repository.
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});
afterEach(() => {
  process.exitCode = undefined;
});

function kumo(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runCli(argv);
}

/** Runs `check` while a live run on this host (this process) holds the spec's state lock. */
async function whileLiveRunHoldsLock(check: () => Promise<void>): Promise<void> {
  writeFileSync(file, spec(3));
  const store = sqliteStore(join(dir, '.kumo', 'state.db'));
  await store.open('clitest');
  const holder = {
    pid: process.pid,
    host: hostname(),
    command: 'kumo apply',
    since: new Date().toISOString(),
  };
  const lock = await store.lock(holder);
  try {
    await check();
  } finally {
    await lock.release();
    await store.close();
  }
}

describe('kumo datacenter commands on sim', () => {
  it('apply makes the spec real, one line per event, and a summary', async () => {
    writeFileSync(file, spec(3));
    const r = await kumo('apply', '-f', file, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('network  lan on onprem');
    expect(r.stdout.match(/^created {2}/gm)).toHaveLength(5);
    expect(r.stdout).toMatch(
      /Apply complete: 5 created, 0 replaced, 0 deleted, 0 started, 1 network change\(s\)/,
    );
    expect(existsSync(join(dir, '.kumo', 'state.db'))).toBe(true);
    expect(existsSync(join(dir, '.kumo', 'sim-cloud.json'))).toBe(true);
  });

  it('status shows pools, capacity, drift, orphans and the journal', async () => {
    const r = await kumo('status', '-f', file);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Datacenter clitest \(state .*state\.db, serial \d+, unlocked\)/);
    expect(r.stdout).toMatch(/^db\s+onprem\s+2\s+2\s+2\s+0\s+0\s+8\s+32768/m);
    expect(r.stdout).toMatch(/^web\s+cloud\s+3\s+3\s+3\s+0\s+0\s+6\s+12288/m);
    expect(r.stdout).toContain('Total: 5 machine(s), 5 running; 14 vCPU');
    expect(r.stdout).toContain('Drift: none.');
    expect(r.stdout).toContain('Orphans: none.');
    expect(r.stdout).toContain('Journal: empty.');
    const json = JSON.parse((await kumo('status', '-f', file, '--json')).stdout) as {
      capacity: { machines: number };
    };
    expect(json.capacity.machines).toBe(5);
  });

  it('machines lists a table, filters, and prints JSON', async () => {
    const table = await kumo('machines', '-f', file);
    expect(table.stdout.split('\n')[0]).toMatch(
      /^ID\s+POOL\s+PROVIDER\s+ZONE\s+SIZE\s+STATE\s+ADDRESS\s+USD_H$/,
    );
    expect(table.stdout.trim().split('\n')).toHaveLength(6);
    const db = JSON.parse(
      (await kumo('machines', '-f', file, '--json', '--label', 'role=db')).stdout,
    ) as { pool: string; state: string }[];
    expect(db.map((m) => m.pool)).toEqual(['db', 'db']);
    expect(
      JSON.parse(
        (await kumo('machines', '-f', file, '--json', '--pool', 'web', '--state', 'running'))
          .stdout,
      ),
    ).toHaveLength(3);
    const bad = await kumo('machines', '-f', file, '--state', 'sleeping');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--state');
  });

  it('plan says no changes once applied, and shows + - ~ for changes', async () => {
    expect((await kumo('plan', '-f', file)).stdout).toBe(
      'No changes. 5 machine(s) match the spec.\n',
    );
    writeFileSync(file, spec(1).replace('image: ubuntu-22.04, labels', 'image: debian-12, labels'));
    const r = await kumo('plan', '-f', file);
    expect(r.stdout).toMatch(
      /^~ db-\S+ \(db on onprem\): replace, spec changed: image "ubuntu-22.04" → "debian-12"$/m,
    );
    expect(r.stdout.match(/^- web-\S+ \(web on cloud\): scale down to 1$/gm)).toHaveLength(2);
    expect(r.stdout).toContain(
      'Plan: 0 to create, 2 to replace, 2 to delete, 0 to start, 0 network change(s); 1 unchanged.',
    );
    const json = JSON.parse((await kumo('plan', '-f', file, '--json')).stdout) as {
      summary: { replace: number };
    };
    expect(json.summary.replace).toBe(2);
    writeFileSync(file, spec(3));
  });

  it('a saved plan applies, and is refused once state has moved', async () => {
    writeFileSync(file, spec(4));
    const planFile = join(dir, 'plan.json');
    const saved = await kumo('plan', '-f', file, '-o', planFile);
    expect(saved.stdout).toContain(`Saved the plan to ${planFile}`);
    const stale = readFileSync(planFile, 'utf8');
    const ok = await kumo('apply', planFile, '-f', file);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toContain('Apply complete: 1 created');
    writeFileSync(planFile, stale);
    const refused = await kumo('apply', planFile, '-f', file);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toMatch(
      /kumo: state has moved since the plan was made \(serial \d+, now \d+\); run kumo plan again/,
    );
    writeFileSync(file, spec(3));
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
  });

  it('plan -o into a directory that does not exist exits 2 naming the option, before planning', async () => {
    const target = join(dir, 'no-such-dir', 'plan.json');
    const r = await kumo('plan', '-f', file, '-o', target);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      `kumo: -o ${target}: the directory ${join(dir, 'no-such-dir')} does not exist\n`,
    );
    expect(r.stdout).toBe('');
  });

  it('plan exits 2 naming the line of an image the provider does not have', async () => {
    const bad = join(dir, 'bad-image.yaml');
    writeFileSync(bad, spec(5).replace('ubuntu-22.04', 'ubuntu-99.04'));
    const r = await kumo('plan', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-image\.yaml:\d+:\d+ pools\.\w+\.machine\.image: .*ubuntu-99\.04/);
  });

  it('plan exits 2 naming the line of a size the provider does not offer', async () => {
    const bad = join(dir, 'bad-size.yaml');
    writeFileSync(
      bad,
      spec(5).replace(
        '{ resources: { cpus: 2, memoryMiB: 4096 }, image',
        '{ size: std-99x1, image',
      ),
    );
    const r = await kumo('plan', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-size\.yaml:22:\d+ pools\.web\.machine\.size: .*std-99x1/);
  });

  it('apply refuses to run unattended without --yes', async () => {
    const r = await kumo('apply', '-f', file);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'kumo: refusing to apply without --yes: standard input is not a terminal to confirm on\n',
    );
  });

  it('apply --json streams one JSON object per line, ending with the summary', async () => {
    writeFileSync(file, spec(4));
    const r = await kumo('apply', '-f', file, '--yes', '--json');
    const lines = r.stdout
      .trim()
      .split('\n')
      .map(
        (l) =>
          JSON.parse(l) as { event?: { type: string }; summary?: { ok: boolean; created: number } },
      );
    expect(lines.filter((l) => l.event?.type === 'machine.created')).toHaveLength(1);
    expect(lines.at(-1)?.summary).toMatchObject({ ok: true, created: 1 });
    writeFileSync(file, spec(3));
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
  });

  it('apply ends non-zero with a summary when a step fails, having done the others', async () => {
    // The cloud refuses at apply what no plan can know: onprem has a 16-vCPU quota.
    const broken = spec(
      3,
      `  big:\n    provider: onprem\n    count: 1\n    machine: { resources: { cpus: 32, memoryMiB: 65536 }, image: ubuntu-22.04 }\n  extra:\n    provider: onprem\n    count: 1\n    machine: { resources: { cpus: 1, memoryMiB: 1024 }, image: ubuntu-22.04 }\n`,
    ).replace('    seed: 1\n', '    seed: 1\n    quota: { cpus: 16 }\n');
    writeFileSync(file, broken);
    const r = await kumo('apply', '-f', file, '--yes');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('Apply finished with 1 failure(s): 1 created');
    expect(r.stdout).toContain('failed: + big: 1 machine(s) on onprem (32 vCPU, 65536 MiB');
    expect(r.stdout).toContain('QuotaExceeded: vCPU quota of 16 would be exceeded');
    writeFileSync(file, spec(3));
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
  });

  it('apply refuses a spec no size or image can run, before changing anything (exit 2)', async () => {
    writeFileSync(file, spec(3));
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
    const before = (await kumo('machines', '-f', file, '--json')).stdout;
    writeFileSync(
      file,
      spec(
        4,
        `  gpu:\n    provider: cloud\n    count: 1\n    machine: { size: no-such-size, image: ubuntu-22.04 }\n`,
      ),
    );
    const r = await kumo('apply', '-f', file, '--yes');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /kumo\.yaml:\d+:\d+ pools\.gpu\.machine\.size: unknown size "no-such-size"/,
    );
    expect(r.stdout).toBe('');
    expect((await kumo('machines', '-f', file, '--json')).stdout).toBe(before);
    writeFileSync(file, spec(3));
  });

  it('apply --yes reads each cloud once: planned, checked and applied under one lock', async () => {
    writeFileSync(file, spec(3));
    const lists = vi.spyOn(SimProvider.prototype, 'listMachines');
    try {
      expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
      expect(lists).toHaveBeenCalledTimes(2); // onprem and cloud
    } finally {
      lists.mockRestore();
    }
  });

  it('force-unlock removes the lock of a run on another host that died, so apply runs again', async () => {
    writeFileSync(file, spec(3));
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
    const store = sqliteStore(join(dir, '.kumo', 'state.db'));
    await store.open('clitest');
    const gone = {
      pid: 4242,
      host: 'ci-runner-gone',
      command: 'kumo apply',
      since: '2026-01-01T00:00:00.000Z',
    };
    await store.lock(gone); // never released: its host died
    await store.close();
    const locked = await kumo('apply', '-f', file, '--yes');
    expect(locked.code).toBe(4);
    expect(locked.stderr).toMatch(/on host ci-runner-gone .*kumo force-unlock/);
    const r = await kumo('force-unlock', '-f', file, '--yes', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ holder: gone, removed: true });
    expect((await kumo('force-unlock', '-f', file, '--yes')).stdout).toMatch(/is not locked/);
    expect((await kumo('apply', '-f', file, '--yes')).code).toBe(0);
  });

  it('Ctrl-C while waiting for the lock exits 130 at once, having changed nothing', async () => {
    await whileLiveRunHoldsLock(async () => {
      setTimeout(() => process.emit('SIGINT'), 200);
      const r = await kumo('apply', '-f', file, '--yes', '--lock-timeout', '60');
      expect(r.code).toBe(130);
      expect(r.stderr).toMatch(/interrupted before kumo apply changed anything/);
    });
  });

  it('force-unlock refuses the lock of a run alive on this host', async () => {
    await whileLiveRunHoldsLock(async () => {
      const r = await kumo('force-unlock', '-f', file, '--yes');
      expect(r.code).toBe(4);
      expect(r.stderr).toMatch(/live run on this host/);
    });
  });

  it('a bad spec file exits 2 naming file, line, column, field and reason', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      spec(3).replace('count: 3', 'count: -3').replace('cidr: 10.0.0.0/16', 'cidr: 10.0.0.0/99'),
    );
    const r = await kumo('plan', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad\.yaml has 2 problems:/);
    expect(r.stderr).toMatch(
      /bad\.yaml:12:34 networks\.lan\.cidr: must be an IPv4 CIDR such as 10\.0\.0\.0\/16/,
    );
    expect(r.stderr).toMatch(/bad\.yaml:21:12 pools\.web\.count: count cannot be negative/);
  });

  it('a provider setting its factory refuses is placed at its line in the spec file', async () => {
    const bad = join(dir, 'bad-provider.yaml');
    writeFileSync(bad, spec(3).replace('    seed: 2\n', '    seed: 2\n    concurrency: 0\n'));
    const r = await kumo('plan', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-provider\.yaml:10:18 providers\.cloud\.concurrency: /);
  });

  it("a provider's settings are checked with the rest of the file: one run lists every problem", async () => {
    const bad = join(dir, 'bad-both.yaml');
    writeFileSync(
      bad,
      spec(3)
        .replace('    seed: 2\n', '    seed: 2\n    sede: 3\n')
        .replace('count: 3', 'count: -3'),
    );
    const r = await kumo('plan', '-f', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/bad-both\.yaml has 2 problems:/);
    expect(r.stderr).toMatch(
      /bad-both\.yaml:10:5 providers\.cloud\.sede: unknown setting "sede" for kind sim/,
    );
    expect(r.stderr).toMatch(/bad-both\.yaml:22:12 pools\.web\.count: count cannot be negative/);
  });

  it('a state database that is a directory exits 2, at the spec line or naming --state-db', async () => {
    const stateDir = join(dir, 'state-is-a-dir');
    mkdirSync(stateDir, { recursive: true });
    const viaFlag = await kumo('plan', '-f', file, '--state-db', stateDir);
    expect(viaFlag.code).toBe(2);
    expect(viaFlag.stderr).toContain(
      `--state-db ${stateDir}: ${stateDir} is a directory, not a state database file`,
    );
    const inFile = join(dir, 'state-dir.yaml');
    writeFileSync(
      inFile,
      spec(3).replace('name: clitest\n', 'name: clitest\nstate: state-is-a-dir\n'),
    );
    const viaSpec = await kumo('plan', '-f', inFile);
    expect(viaSpec.code).toBe(2);
    expect(viaSpec.stderr).toContain(
      `state-dir.yaml:2:8 state: ${stateDir} is a directory, not a state database file`,
    );
  });

  it('a missing spec file exits 2 saying how to give one', async () => {
    const r = await kumo('status', '-f', join(dir, 'nope.yaml'));
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('nope.yaml not found; give one with -f');
  });

  it('refresh reports orphans, adopt takes them in, apply --prune deletes them', async () => {
    const cloud = sim({
      name: 'cloud',
      seed: 2,
      latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 },
      statePath: join(dir, '.kumo', 'sim-cloud.json'),
    });
    const strays = await cloud.createMachines({
      spec: { resources: { cpus: 1, memoryMiB: 1024 }, image: 'ubuntu-22.04' },
      count: 2,
      idempotencyKey: 'stray',
      dc: 'clitest',
      pool: 'web',
    });
    const refreshed = await kumo('refresh', '-f', file);
    expect(refreshed.stdout).toContain(
      'Orphans: 2 (kumo adopt takes them into state; kumo apply --prune deletes them)',
    );
    expect((await kumo('plan', '-f', file)).stdout).toContain(
      `! orphan: ${strays[0]!.id} on cloud (pool web)`,
    );
    const adopted = await kumo('adopt', strays[0]!.id, '-f', file);
    expect(adopted.stdout).toContain(
      `adopted  ${strays[0]!.id} (${strays[0]!.providerId}) into pool web`,
    );
    const pruned = await kumo('apply', '-f', file, '--yes', '--prune');
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(
      (await cloud.listMachines({ labels: { 'kumo-dc': 'clitest', 'kumo-pool': 'web' } })).length,
    ).toBe(3);
    expect((await kumo('refresh', '-f', file)).stdout).toContain('Orphans: none.');
  });

  it('sizes and images take a provider by its name in the spec file', async () => {
    const r = await kumo('sizes', '-f', file, '--provider', 'cloud', '--json');
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { provider: string }[])[0]?.provider).toBe('cloud');
    const missing = await kumo('sizes', '-f', file, '--provider', 'nowhere');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('declares no provider "nowhere" (declared: onprem, cloud)');
  });

  it('destroy removes every machine and network, and refuses unattended without --yes', async () => {
    expect((await kumo('destroy', '-f', file)).code).toBe(2);
    const r = await kumo('destroy', '-f', file, '--yes');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Destroy complete: 0 created, 0 replaced, 5 deleted, 0 started, 1 network change\(s\)/,
    );
    expect(r.stdout).toContain('network  lan on onprem deleted');
    const status = await kumo('status', '-f', file);
    expect(status.stdout).toContain('Total: 0 machine(s)');
    expect((await kumo('destroy', '-f', file, '--yes')).stdout).toContain(
      'Nothing to destroy in datacenter clitest.',
    );
  });
});
