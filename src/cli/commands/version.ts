import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { printJson } from '../output.js';

export function kumoVersion(): string {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  return pkg.version;
}

export function registerVersion(program: Command): void {
  program
    .command('version')
    .description('print the kumo version')
    .option('--json', 'JSON output')
    .action((opts: { json?: boolean }) => {
      if (opts.json) printJson({ version: kumoVersion(), node: process.version });
      else process.stdout.write(`kumo ${kumoVersion()} (node ${process.version})\n`);
    });
}
