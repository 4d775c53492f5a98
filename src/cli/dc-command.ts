/** What the datacenter commands (plan, apply, destroy, status, …) share: options, interrupts, summaries. */
import { InvalidArgumentError, type Command } from 'commander';
import type { ApplyOptions, ApplySummary } from '../logical-dc/index.js';
import { EXIT, Interrupted } from './output.js';

export interface DcOptions {
  file?: string;
  stateDb?: string;
  json?: boolean;
}

export interface ApplyFlags extends DcOptions {
  yes?: boolean;
  prune?: boolean;
  createBeforeDestroy?: boolean;
  parallelism?: number;
  batchSize?: number;
  lockTimeout?: number;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('must be a whole number of at least 1');
  return n;
}

export function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0)
    throw new InvalidArgumentError('must be a number of seconds, 0 or more');
  return n;
}

export function addDcOptions(cmd: Command): Command {
  return cmd
    .option(
      '-f, --file <spec>',
      'spec file (default: $KUMO_FILE, else kumo.yaml, else the file last applied from this directory)',
    )
    .option('--state-db <path>', 'state database (default: .kumo/state.db next to the spec file)')
    .option('--json', 'JSON output');
}

export function addApplyOptions(cmd: Command): Command {
  return cmd
    .option(
      '--prune',
      'also delete orphans (kumo-tagged machines of this datacenter that state does not know)',
    )
    .option(
      '--create-before-destroy',
      'on a spec change, create each replacement before deleting the old machine',
    )
    .option('--parallelism <n>', 'cloud calls in flight per provider (default 8)', positiveInt)
    .option(
      '--batch-size <n>',
      'machines per create call and journal entry (default 100, or 10 without batching)',
      positiveInt,
    )
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another run holding the state lock (default 0: fail at once)',
      seconds,
    );
}

export function applyOptions(
  flags: ApplyFlags,
  command: string,
  signal: AbortSignal,
): ApplyOptions {
  return {
    command,
    signal,
    ...(flags.prune ? { prune: true } : {}),
    ...(flags.createBeforeDestroy ? { createBeforeDestroy: true } : {}),
    ...(flags.parallelism !== undefined ? { parallelism: flags.parallelism } : {}),
    ...(flags.batchSize !== undefined ? { batchSize: flags.batchSize } : {}),
    ...(flags.lockTimeout !== undefined ? { lockTimeoutMs: flags.lockTimeout * 1000 } : {}),
  };
}

/**
 * Runs `fn` with an AbortSignal tripped by Ctrl-C (SIGINT) or SIGTERM: in-flight calls
 * end, journaled intents stay for the next run of `command`, and the command exits
 * 130. A second signal exits at once (the journal still holds what was under way).
 */
export async function withInterrupt<T>(
  command: 'apply' | 'destroy',
  fn: (signal: AbortSignal) => Promise<T>,
): Promise<{ value: T; interrupted: boolean }> {
  const controller = new AbortController();
  const onSignal = (): void => {
    if (!controller.signal.aborted) {
      process.stderr.write(
        `\nkumo: interrupted; finishing calls in flight (run kumo ${command} again to resume; interrupt again to exit now)\n`,
      );
      controller.abort(new Error('interrupted'));
      return;
    }
    process.stderr.write(
      `\nkumo: exiting now; calls in flight may have happened: kumo ${command} resumes from the journal\n`,
    );
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const value = await fn(controller.signal);
    return { value, interrupted: controller.signal.aborted };
  } catch (err) {
    // Stopped before any step ran (waiting for the lock, reading the clouds): exit 130.
    const { signal } = controller;
    if (
      signal.aborted &&
      (err === signal.reason || (err instanceof Error && err.name === 'AbortError'))
    )
      throw new Interrupted(`interrupted before kumo ${command} changed anything`);
    throw err;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Prints what an apply or destroy did and returns the exit code. */
export function reportSummary(
  summary: ApplySummary,
  json: boolean | undefined,
  interrupted: boolean,
  verb: string,
): number {
  const code = interrupted ? EXIT.interrupted : summary.ok ? EXIT.ok : EXIT.failed;
  if (json) {
    process.stdout.write(`${JSON.stringify({ summary })}\n`);
    return code;
  }
  const s = summary;
  const did = `${s.created} created, ${s.replaced} replaced, ${s.deleted} deleted, ${s.started} started, ${s.networks} network change(s)${s.resumed ? `, ${s.resumed} interrupted intent(s) resumed` : ''}`;
  if (s.ok)
    process.stdout.write(`${verb} complete: ${did} in ${(s.durationMs / 1000).toFixed(1)} s.\n`);
  else {
    process.stdout.write(
      interrupted
        ? `${verb} interrupted: ${did}${s.notRun > 0 ? `; ${s.notRun} operation(s) not run` : ''}${s.failed.length > 0 ? `; ${s.failed.length} failure(s)` : ''}. Run kumo ${verb.toLowerCase()} again to carry on.\n`
        : `${verb} finished with ${s.failed.length} failure(s): ${did}.\n`,
    );
    for (const f of s.failed)
      process.stdout.write(
        `  failed: ${f.step}\n          ${f.code}: ${f.message}${f.resumable ? ' (journaled: the next apply retries it)' : ''}\n`,
      );
    if (s.pendingIntents > 0)
      process.stdout.write(
        `  ${s.pendingIntents} intent(s) remain journaled; run kumo ${verb.toLowerCase()} again to resume them.\n`,
      );
  }
  return code;
}
