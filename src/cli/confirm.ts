import { createInterface } from 'node:readline/promises';
import { ValidationError } from '../core/index.js';

/**
 * Asks before changing anything. With `--yes` it does not ask; without a terminal to
 * ask on, it refuses rather than guess.
 */
/** Refuses up front, before any work, when there is neither `--yes` nor a terminal to ask on. */
export function requireYesOrTerminal(yes: boolean | undefined, what: string): void {
  if (yes !== true && process.stdin.isTTY !== true)
    throw new ValidationError(
      `refusing to ${what} without --yes: standard input is not a terminal to confirm on`,
      { issues: [{ path: '--yes', message: 'required when not run from a terminal' }] },
    );
}

export async function confirm(
  question: string,
  yes: boolean | undefined,
  what: string,
): Promise<boolean> {
  if (yes === true) return true;
  requireYesOrTerminal(yes, what);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}
