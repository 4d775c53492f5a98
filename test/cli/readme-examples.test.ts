/**
 * The README's quick start and error examples, run: the output it shows is what kumo
 * prints (ids, keys, zones and timings, which differ run to run, masked), so the
 * newcomer's path stays true.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runCli as kumo } from './run-cli.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** The lines the README shows after `$ <command>`, up to the end of its block. */
function shownAfter(command: string): string[] {
  const at = README.indexOf(`$ ${command}\n`);
  if (at < 0) throw new Error(`the README shows no "$ ${command}"`);
  const from = at + command.length + 3;
  return README.slice(from, README.indexOf('```', from)).trimEnd().split('\n');
}

/** The README's ```text block after the ```sh block whose line is `command`. */
function shownBelow(command: string): string[] {
  const at = README.indexOf(`\n${command}\n\`\`\`\n`);
  if (at < 0) throw new Error(`the README shows no "${command}" block`);
  const from = README.indexOf('```text\n', at) + '```text\n'.length;
  return README.slice(from, README.indexOf('```', from)).trimEnd().split('\n');
}

/** What differs run to run, masked; lines sorted, as creates and deletes interleave. */
function masked(lines: readonly string[]): string[] {
  return lines
    .map((l) =>
      l
        .replace(/key (\w+)([:/])[0-9a-f]{16,20}/g, 'key $1$2K')
        .replace(/\b(db|web|good)-[0-9a-f]{8}-/g, '$1-ID-')
        .replace(/\b(sim-1|sim-east-1|dc-1)[abc]\b/g, '$1Z')
        .replace(/ in \d+\.\d s\./, ' in T s.'),
    )
    .sort();
}

const home = process.cwd();
afterEach(() => process.chdir(home));

describe('the README quick start', () => {
  // A copy of the example, so the run's state stays out of the repository.
  const dir = mkdtempSync(join(tmpdir(), 'kumo-readme-quickstart-'));
  mkdirSync(join(dir, 'examples'));
  copyFileSync(join(ROOT, 'examples', 'quickstart.yaml'), join(dir, 'examples', 'quickstart.yaml'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['npx kumo apply -f examples/quickstart.yaml --yes', 0],
    ['npx kumo status', 0],
    ['npx kumo plan', 0],
    ['npx kumo destroy --yes', 0],
  ])('%s prints what the README shows', async (command, code) => {
    process.chdir(dir);
    const r = await kumo(command.split(' ').slice(2));
    expect(r.code, r.stderr).toBe(code);
    expect(masked(r.stdout.trimEnd().split('\n'))).toEqual(masked(shownBelow(command)));
  });
});

describe('the README error examples', () => {
  it('examples/errors/bad.yaml: plan prints exactly the six problems shown, exit 2', async () => {
    process.chdir(ROOT);
    const r = await kumo(['plan', '-f', 'examples/errors/bad.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr.trimEnd().split('\n')).toEqual(
      shownAfter('npx kumo plan -f examples/errors/bad.yaml'),
    );
  });

  it('examples/errors/quota.yaml: apply makes what fits and prints the summary shown, exit 1', async () => {
    // A copy, so the run's state stays out of the repository.
    const dir = join(mkdtempSync(join(tmpdir(), 'kumo-readme-')), 'errors');
    mkdirSync(dir);
    copyFileSync(join(ROOT, 'examples', 'errors', 'quota.yaml'), join(dir, 'quota.yaml'));
    process.chdir(dir);
    const r = await kumo(['apply', '-f', 'quota.yaml', '--yes']);
    expect(r.code).toBe(1);
    expect(masked(r.stdout.trimEnd().split('\n'))).toEqual(
      masked(shownAfter('npx kumo apply -f examples/errors/quota.yaml --yes')),
    );
  });
});
