/**
 * The `kumo` CLI as a child process, for tests that must kill it or run two at once.
 * Built from src with esbuild (what tsx uses) into node_modules/.cache, so each child
 * starts in a fraction of the time `node --import tsx` takes and works on a fresh
 * clone without `npm run build`. Cloud SDKs stay external and load only when used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(import.meta.dirname, '..', '..');
// Three levels below the root, as src/cli/commands is: the version command finds package.json.
const OUT = join(ROOT, 'node_modules', '.cache', `kumo-cli-${process.pid}`);

let built: Promise<string> | undefined;

/** Bundles src/cli.ts once per test process; returns the entry to run with node. */
export function cliBundle(): Promise<string> {
  built ??= (async () => {
    mkdirSync(OUT, { recursive: true });
    await build({
      entryPoints: { cli: join(ROOT, 'src', 'cli.ts') },
      outdir: OUT,
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      packages: 'external',
      outExtension: { '.js': '.mjs' },
      logLevel: 'silent',
    });
    return join(OUT, 'cli.mjs');
  })();
  return built;
}

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Starts `kumo <args>`; `onLine` sees each stdout line as it comes. */
export async function startCli(
  args: readonly string[],
  options: { cwd?: string; onLine?: (line: string, child: ChildProcess) => void } = {},
): Promise<{ child: ChildProcess; done: Promise<CliRun> }> {
  const entry = await cliBundle();
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: options.cwd ?? ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CI: 'true' },
  });
  let stdout = '';
  let stderr = '';
  let partial = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    partial += chunk.toString();
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) options.onLine?.(line, child);
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolveRun) =>
    child.on('close', (code, signal) => resolveRun({ code, signal, stdout, stderr })),
  );
  return { child, done };
}

/** Runs `kumo <args>` to the end. */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<CliRun> {
  const { done } = await startCli(args, options);
  return done;
}
