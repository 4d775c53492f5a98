/**
 * The README's error examples, run: the output it shows for the shipped files in
 * examples/errors/ is what kumo prints (ids, keys and zones, which differ run to run,
 * masked), so the newcomer's path stays true.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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

const home = process.cwd();
afterEach(() => process.chdir(home));

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
    const mask = (lines: string[]) =>
      lines
        .map((l) =>
          l
            .replace(/key (\w+):[0-9a-f]{20}/g, 'key $1:K')
            .replace(/good-[0-9a-f]{8}-/g, 'good-ID-')
            .replace(/sim-1[abc]/g, 'sim-1Z'),
        )
        .sort();
    expect(mask(r.stdout.trimEnd().split('\n'))).toEqual(
      mask(shownAfter('npx kumo apply -f examples/errors/quota.yaml --yes')),
    );
  });
});
