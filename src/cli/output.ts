/**
 * Output for the `kumo` command: human tables by default, JSON for scripts, and one
 * line per error with a documented exit code.
 */
import { isKumoError, ValidationError } from '../core/index.js';

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  /** The operation ran and (partly) failed. */
  failed: 1,
  /** Bad input: usage, spec file, validation. */
  usage: 2,
  /** Credentials missing or refused. */
  auth: 3,
  /** State is locked by another run, or moved since the plan was made. */
  conflict: 4,
  /** Interrupted (Ctrl-C). */
  interrupted: 130,
} as const;

/**
 * A bad value of a command-line option: `<shown>: <message>`, with the option as the
 * issue's path (exit 2).
 *
 * @example
 * ```ts
 * throw optionError(`-o ${path}`, '--out', 'is a directory');
 * ```
 */
export function optionError(shown: string, option: string, message: string): ValidationError {
  return new ValidationError(`${shown}: ${message}`, { issues: [{ path: option, message }] });
}

/** The user stopped the command (Ctrl-C) before it changed anything: exit 130. */
export class Interrupted extends Error {
  override readonly name = 'Interrupted';
}

/** The documented exit code for an error a command ended with. */
export function exitCodeFor(err: unknown): number {
  if (err instanceof Interrupted) return EXIT.interrupted;
  if (!isKumoError(err)) return EXIT.failed;
  switch (err.code) {
    case 'ValidationError':
    case 'NotFound':
      return EXIT.usage;
    case 'AuthError':
      return EXIT.auth;
    case 'Conflict':
      return EXIT.conflict;
    default:
      return EXIT.failed;
  }
}

/** A plain text table with aligned columns. */
export function table(
  headers: readonly string[],
  rows: readonly (readonly (string | number | undefined)[])[],
): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells
    .map((r) =>
      r
        .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** `kumo: <message>` on stderr, with each validation issue on its own line. */
export function printError(err: unknown, json = false): void {
  if (json) {
    process.stderr.write(
      `${JSON.stringify({
        error: isKumoError(err)
          ? err.toJSON()
          : err instanceof Error
            ? { code: err.name, message: err.message }
            : { code: 'Error', message: String(err) },
      })}\n`,
    );
    return;
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`kumo: ${message}\n`);
}
