import { createInterface } from 'node:readline/promises';
import { ValidationError } from '../core/index.js';
import { Interrupted } from './output.js';

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
  // Ctrl-D (end of input) is a no; Ctrl-C stops the command as an interrupt does (130).
  const interrupted = (): Interrupted =>
    new Interrupted(
      `interrupted at the prompt; nothing was ${what === 'apply' ? 'applied' : 'changed'}`,
    );
  const ended = new Promise<string>((resolve, reject) => {
    rl.once('close', () => resolve(''));
    rl.once('SIGINT', () => reject(interrupted()));
  });
  try {
    const answer = await Promise.race([rl.question(`${question} [y/N] `), ended]);
    return /^y(es)?$/i.test(answer.trim());
  } catch (err) {
    if (err instanceof Error && /Ctrl\+D/.test(err.message)) return false;
    if (err instanceof Error && /Ctrl\+C/.test(err.message)) throw interrupted();
    throw err;
  } finally {
    rl.close();
  }
}
