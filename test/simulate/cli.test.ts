import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BurstEvent } from '../../src/logical-dc/index.js';
import { TRACE_HEADER, type SimulationReport } from '../../src/logical-dc/simulate/index.js';
import { runCli } from '../cli/run-cli.js';
import { startCli } from '../cli/cli-bundle.js';
import { loadSpecFile } from '../../src/logical-dc/index.js';
import { EXAMPLE, tracePath } from './helpers.js';
import { itKeepsTheBurstInvariants } from './invariants.js';

const dir = mkdtempSync(join(tmpdir(), 'kumo-simulate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Simulates `spec` on the steady trace into `out`. */
function simulateSteady(spec: string, out: string, ...flags: string[]) {
  return runCli(['simulate', '-f', spec, '--trace', tracePath('steady'), '--out', out, ...flags]);
}

/** Writes `rows` as the trace DIR/<name>.csv and simulates the example on it into DIR/<name>. */
async function simulateRows(name: string, rows: readonly string[], ...flags: string[]) {
  const trace = join(dir, `${name}.csv`);
  writeFileSync(trace, `${[TRACE_HEADER, ...rows].join('\n')}\n`);
  const out = join(dir, name);
  const run = await runCli(['simulate', '-f', EXAMPLE, '--trace', trace, '--out', out, ...flags]);
  return { trace, out, ...run };
}

describe('kumo simulate -f examples/burst.yaml --trace examples/traces/steady.csv --out DIR', () => {
  const out = join(dir, 'steady');
  let result: { code: number; stdout: string; stderr: string };
  let report: SimulationReport;
  let html: string;
  beforeAll(async () => {
    result = await runCli([
      'simulate',
      '-f',
      EXAMPLE,
      '--trace',
      tracePath('steady'),
      '--out',
      out,
    ]);
    report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SimulationReport;
    html = readFileSync(join(out, 'report.html'), 'utf8');
  });

  // The decisions in report.json are every event the controller emitted, in order.
  itKeepsTheBurstInvariants(() => ({
    file: loadSpecFile(EXAMPLE),
    report,
    events: [...report.decisions],
  }));

  it('succeeds and prints a summary that names both report files', () => {
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      /^Simulated [\d.]+ h: 440 jobs, 1394 tasks \(1394 finished, 0 failed, 0 never started\)\.$/,
    );
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Cost: \$[\d.]+ in all; burst \$[\d.]+ \(lower bound \$[\d.]+, ×[\d.]+\); base pools \$[\d.]+\.$/,
      ),
    );
    expect(lines).toContainEqual(
      expect.stringMatching(/^Wait: p50 [\d.]+ s, p95 [\d.]+ s, p99 [\d.]+ s \(max [\d.]+ s\)\.$/),
    );
    expect(lines.at(-1)).toBe(`Report: ${join(out, 'report.json')}, ${join(out, 'report.html')}`);
  });

  it('prints the same figures report.json holds', () => {
    expect(result.stdout).toContain(`burst $${report.cost.burstUsd.toFixed(2)}`);
    expect(result.stdout).toContain(`p95 ${report.waitS.p95} s`);
    expect(result.stdout).toContain(`${report.burst.launched} machine(s) launched`);
  });

  it('writes report.json with cost, machine-hours by provider, waits, utilisation and decisions', () => {
    expect(report.format).toBe('kumo-simulation/1');
    expect(report.source.trace).toBe(tracePath('steady'));
    expect(report.trace).toMatchObject({ jobs: 440, tasks: 1394 });
    expect(report.tasks).toEqual({
      submitted: 1394,
      finished: 1394,
      failed: 0,
      moved: 0,
      neverStarted: 0,
      unfinished: 0,
    });
    const c = report.cost;
    expect(c.burstUsd).toBeGreaterThan(0);
    expect(c.totalUsd).toBeCloseTo(c.burstUsd + c.baseUsd, 3);
    expect(Object.values(c.byProvider).reduce((a, b) => a + b, 0)).toBeCloseTo(c.totalUsd, 3);
    // A lower bound no policy can beat: kumo's cost is at or above it.
    expect(c.lowerBoundBurstUsd).toBeGreaterThan(0);
    expect(c.burstUsd).toBeGreaterThanOrEqual(c.lowerBoundBurstUsd!);
    expect(Object.keys(report.machineHours).sort()).toEqual(['cloud-a', 'onprem']);
    const w = report.waitS;
    expect(w.p50).toBeLessThanOrEqual(w.p95);
    expect(w.p95).toBeLessThanOrEqual(w.p99);
    expect(w.p99).toBeLessThanOrEqual(w.max);
    for (const u of Object.values(report.utilization)) {
      expect(u).toBeGreaterThan(0);
      expect(u).toBeLessThanOrEqual(1);
    }
    expect(report.policy?.budgetPerHour).toBe(12);
    expect(report.series.length).toBeGreaterThan(report.durationS / 60 - 2);
  });

  it('records each decision with its reason, the demand, the candidates, the price and the choice', () => {
    const ups = report.decisions.filter(
      (e): e is Extract<BurstEvent, { type: 'burst.scale-up' }> => e.type === 'burst.scale-up',
    );
    expect(ups.length).toBeGreaterThan(0);
    for (const e of ups) {
      expect(e.reason).toMatch(/waited at least 15s/);
      expect(e.demand.length).toBeGreaterThan(0);
      expect(e.considered).toBeGreaterThanOrEqual(e.candidates.length);
      expect(e.chosen.length).toBeGreaterThan(0);
      expect(e.pricePerHour).toBeCloseTo(
        e.chosen.reduce((n, c) => n + c.count * c.pricePerHour, 0),
        4,
      );
      expect(e.pricePerHour).toBeGreaterThanOrEqual(e.lowerBoundPerHour - 1e-9);
    }
    const released = report.decisions.filter((e) => e.type === 'burst.released');
    expect(released).toHaveLength(report.burst.launched);
  });

  it('writes report.html as one self-contained page with its charts', () => {
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // Nothing to fetch: no scripts, stylesheets or images from elsewhere.
    expect(html).not.toMatch(/<script|<link|<img|<iframe/i);
    expect(html).not.toMatch(/\b(src|href)\s*=/i);
    expect(html).not.toMatch(/url\(/i);
    expect((html.match(/<svg/g) ?? []).length).toBeGreaterThanOrEqual(5);
    for (const title of [
      'Machines by provider',
      'Tasks waiting and running',
      'Burst spend rate',
      'Money spent',
    ])
      expect(html).toContain(title);
    expect(html).toContain(`$${report.cost.burstUsd.toFixed(2)}`);
  });
});

describe('kumo simulate --json', () => {
  it('streams each burst event as a JSON line, then the summary and the files', async () => {
    // Two GPU tasks: the base pools have no GPU, so burst must buy for them.
    const { code, stdout, out } = await simulateRows('gpu', ['0,4,16384,1,600,2'], '--json');
    expect(code).toBe(0);
    const lines = stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event?: BurstEvent; summary?: SimulationReport });
    const types = lines.flatMap((l) => (l.event === undefined ? [] : [l.event.type]));
    expect(types[0]).toBe('burst.scale-up');
    expect(types).toContain('burst.provisioned');
    expect(types).toContain('burst.running');
    expect(types.at(-1)).toBe('burst.released');
    const last = lines.at(-1)!;
    expect(last.summary?.tasks).toMatchObject({ submitted: 2, finished: 2 });
    expect(last).toMatchObject({ files: { json: join(out, 'report.json') } });
  });

  it('names the line and field of a bad trace row, and writes nothing', async () => {
    const { code, stderr, trace } = await simulateRows('bad', ['0,-1,4096,0,60,1']);
    expect(code).toBe(2);
    expect(stderr).toContain(`${trace}:2 cpus: cpus must be more than 0`);
    expect(existsSync(join(dir, 'bad'))).toBe(false);
  });

  it('stops at --tail and says how many tasks had not finished', async () => {
    const { code, stdout, out } = await simulateRows(
      'tail',
      ['0,1,1024,0,3600,2'],
      '--tail',
      '120',
    );
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as SimulationReport;
    expect(report.tasks).toMatchObject({ finished: 0, neverStarted: 0, unfinished: 2 });
    expect(stdout).toContain('2 unfinished at the end');
    expect(stdout).toContain('Warning: 2 task(s) did not finish before the run ended');
  });

  it('fails, naming the step, when the base pools cannot be made', async () => {
    const spec = join(dir, 'bad-image.yaml');
    writeFileSync(
      spec,
      'name: bad-image\nproviders:\n  onprem: { kind: sim, seed: 1 }\npools:\n  onprem: { provider: onprem, count: 1, machine: { size: std-4x16, image: ubuntu-99.04 } }\n',
    );
    const out = join(dir, 'bad-image');
    const { code, stderr } = await simulateSteady(spec, out, '--no-burst');
    expect(code).toBe(2);
    expect(stderr).toContain('the base pools could not be made');
    expect(stderr).toContain('ubuntu-99.04');
    expect(existsSync(out)).toBe(false);
  });

  it('refuses an --out that is a file before it runs anything', async () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const { code, stderr, stdout } = await simulateSteady(EXAMPLE, file);
    expect(code).toBe(2);
    expect(stderr).toContain(`--out ${file}: exists and is not a directory`);
    expect(stdout).toBe('');
  });

  it('names the line of a burst target size the cloud does not offer, before the run', async () => {
    const spec = join(dir, 'bad-size.yaml');
    writeFileSync(
      spec,
      readFileSync(EXAMPLE, 'utf8').replace('sizes: [cpu-2x4,', 'sizes: [t3.nano,'),
    );
    const { code, stderr, stdout } = await simulateSteady(spec, join(dir, 'bad-size'));
    expect(code).toBe(2);
    expect(stderr).toMatch(
      /bad-size\.yaml:\d+:\d+ burst\.targets\.0\.sizes\.0: size "t3\.nano" is not offered by cloud-a/,
    );
    expect(stdout).toBe('');
  });
});

describe('kumo simulate -v piped into a reader that stops early (| head)', () => {
  it('finishes the simulation and writes its report, without an EPIPE error', async () => {
    const out = join(dir, 'piped');
    let closed = false;
    const { done } = await startCli(
      ['simulate', '-f', EXAMPLE, '--trace', tracePath('spiky'), '--out', out, '-v'],
      {
        onLine: (_line, child) => {
          if (closed) return;
          closed = true;
          child.stdout?.destroy();
        },
      },
    );
    const run = await done;
    expect(closed).toBe(true);
    expect(run.stderr).not.toMatch(/EPIPE/);
    expect(run.code).toBe(0);
    expect(existsSync(join(out, 'report.json'))).toBe(true);
  });
});
