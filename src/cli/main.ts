import { Command, CommanderError } from 'commander';
import { COMMANDS } from './commands/index.js';
import { kumoVersion } from './commands/version.js';
import { EXIT, exitCodeFor, printError } from './output.js';

/**
 * Builds the `kumo` program; tests call it with their own argv. With `json`, usage
 * errors (an unknown option, a missing argument) come out as one JSON object on
 * stderr, as every other error of a `--json` run does.
 */
export function buildProgram(options: { json?: boolean } = {}): Command {
  const program = new Command('kumo')
    .description('kumo: many clouds, one logical datacenter')
    .version(kumoVersion(), '-V, --version')
    .exitOverride();
  if (options.json === true)
    program.configureOutput({
      outputError: (text, write) =>
        write(
          `${JSON.stringify({ error: { code: 'UsageError', message: text.replace(/^error: /, '').trim() } })}\n`,
        ),
    });
  else program.showHelpAfterError('(run kumo --help for usage)');
  for (const register of COMMANDS) register(program);
  return program;
}

/** Runs the CLI and returns the exit code (documented in the README). */
export async function main(argv: readonly string[]): Promise<number> {
  const json = argv.includes('--json');
  const program = buildProgram({ json });
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
    printError(err, json);
    return exitCodeFor(err);
  }
}
