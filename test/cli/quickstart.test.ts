import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

// The README's quick start, run as written: apply with -f once, then plain commands.
const EXAMPLE = resolve(import.meta.dirname, '..', '..', 'examples', 'quickstart.yaml');
const home = process.cwd();
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-quickstart-'));
  mkdirSync(join(dir, 'examples'));
  copyFileSync(EXAMPLE, join(dir, 'examples', 'quickstart.yaml'));
  process.chdir(dir);
});
afterAll(() => {
  process.chdir(home);
  rmSync(dir, { recursive: true, force: true });
});

describe('the quick start', () => {
  it('plans before anything exists without making the state database', async () => {
    const r = await runCli(['plan', '-f', 'examples/quickstart.yaml']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Plan: 5 to create');
    expect(existsSync(join(dir, 'examples', '.kumo', 'state.db'))).toBe(false);
    const status = await runCli(['status', '-f', 'examples/quickstart.yaml', '--no-refresh']);
    expect(status.stdout).toContain('Nothing applied yet');
    expect(existsSync(join(dir, 'examples', '.kumo', 'state.db'))).toBe(false);
  });

  it('applies examples/quickstart.yaml with no credentials, keeping state beside the file', async () => {
    const r = await runCli(['apply', '-f', 'examples/quickstart.yaml', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Apply complete: 5 created');
    expect(existsSync(join(dir, 'examples', '.kumo', 'state.db'))).toBe(true);
    expect(existsSync(join(dir, 'examples', '.kumo', 'sim-onprem.json'))).toBe(true);
    expect(existsSync(join(dir, 'examples', '.kumo', 'sim-cloud.json'))).toBe(true);
  });

  it('remembers the applied file, so later commands here need no -f', async () => {
    expect(readFileSync(join(dir, '.kumo', 'spec'), 'utf8').trim()).toBe(
      join('examples', 'quickstart.yaml'),
    );
    const status = await runCli(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^Datacenter quickstart \(state examples\/\.kumo\/state\.db/);
    expect(status.stdout).toMatch(/^batch\s+cloud\s+0\.\.20\s+0\s/m);
    expect(status.stdout).toContain('Total: 5 machine(s), 5 running');
  });

  it('keeps remembering the applied file when an apply of another is refused', async () => {
    const other = join('examples', 'renamed.yaml');
    writeFileSync(
      join(dir, other),
      readFileSync(join(dir, 'examples', 'quickstart.yaml'), 'utf8').replace(
        /^name: quickstart$/m,
        'name: renamed',
      ),
    );
    const r = await runCli(['apply', '-f', other, '--yes']);
    expect(r.code).toBe(4); // the state beside it belongs to quickstart
    expect(readFileSync(join(dir, '.kumo', 'spec'), 'utf8').trim()).toBe(
      join('examples', 'quickstart.yaml'),
    );
  });

  it('lists the machines as JSON', async () => {
    const r = await runCli(['machines', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const machines = JSON.parse(r.stdout) as { pool: string; provider: string; state: string }[];
    expect(machines.map((m) => `${m.pool}/${m.provider}/${m.state}`).sort()).toEqual([
      'db/onprem/running',
      'db/onprem/running',
      'web/cloud/running',
      'web/cloud/running',
      'web/cloud/running',
    ]);
  });

  it('plans no changes once applied', async () => {
    const r = await runCli(['plan']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('No changes. 5 machine(s) match the spec.\n');
  });

  it('saves a plan that says how to apply it, naming the file it came from', async () => {
    const r = await runCli(['plan', '-o', 'plan.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(
      `apply exactly it with: kumo apply plan.json -f ${join('examples', 'quickstart.yaml')}`,
    );
    const applied = await runCli(['apply', 'plan.json']);
    expect(applied.code, applied.stderr).toBe(0);
  });

  it('destroys everything it made', async () => {
    const r = await runCli(['destroy', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Destroy complete: 0 created, 0 replaced, 5 deleted');
    expect((await runCli(['machines', '--json'])).stdout.trim()).toBe('[]');
  });

  it('refuses to guess between a kumo.yaml here and the remembered file', async () => {
    copyFileSync(EXAMPLE, join(dir, 'kumo.yaml'));
    const r = await runCli(['destroy', '--yes']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /two spec files could be meant here: \.\/kumo\.yaml and examples\/quickstart\.yaml.*give -f/,
    );
    const explicit = await runCli(['status', '-f', 'kumo.yaml', '--no-refresh']);
    expect(explicit.stdout).toMatch(/^Datacenter quickstart \(state \.kumo\/state\.db/);
    rmSync(join(dir, 'kumo.yaml'));
  });

  it('does not remember a file applied to another state database', async () => {
    copyFileSync(EXAMPLE, join(dir, 'other.yaml'));
    const r = await runCli(['apply', '-f', 'other.yaml', '--state-db', 'other.db', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(dir, '.kumo', 'spec'), 'utf8').trim()).toBe(
      join('examples', 'quickstart.yaml'),
    );
    await runCli(['destroy', '-f', 'other.yaml', '--state-db', 'other.db', '--yes']);
  });
});

describe('a plan saved before the first apply', () => {
  it('applies: the saved plan and the apply see the same new state', async () => {
    const fresh = mkdtempSync(join(tmpdir(), 'kumo-first-plan-'));
    const spec = join(fresh, 'quickstart.yaml');
    copyFileSync(EXAMPLE, spec);
    const planFile = join(fresh, 'first.json');
    try {
      const saved = await runCli(['plan', '-f', spec, '-o', planFile]);
      expect(saved.code, saved.stderr).toBe(0);
      const applied = await runCli(['apply', planFile, '-f', spec]);
      expect(applied.code, applied.stderr).toBe(0);
      expect(applied.stdout).toContain('Apply complete: 5 created');
    } finally {
      rmSync(fresh, { recursive: true, force: true });
    }
  });
});
