import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { kumoVersion } from './commands/version.js';
import { EXIT, exitCodeFor, printError } from './output.js';

/** Builds the `kumo` program; tests call it with their own argv. */
export function buildProgram(): Command {
  const program = new Command('kumo')
    .description('kumo: many clouds, one logical datacenter')
    .version(kumoVersion(), '-V, --version')
    .showHelpAfterError('(run kumo --help for usage)')
    .exitOverride();
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI and returns the exit code (documented in the README). */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version "errors" are how commander says it printed what was asked.
      if (
        err.code === 'commander.helpDisplayed' ||
        err.code === 'commander.version' ||
        err.code === 'commander.help'
      )
        return EXIT.ok;
      return EXIT.usage;
    }
    printError(err, argv.includes('--json'));
    return exitCodeFor(err);
  }
}
