import type { Command } from 'commander';
import { formatPlan, isEmptyPlan } from '../../logical-dc/index.js';
import { confirm, requireYesOrTerminal } from '../confirm.js';
import {
  addDcOptions,
  applyOptions,
  positiveInt,
  reportSummary,
  seconds,
  withInterrupt,
  type ApplyFlags,
} from '../dc-command.js';
import { progressMode, progressPrinter } from '../progress.js';
import { loadDatacenter } from '../spec-loader.js';

export function registerDestroy(program: Command): void {
  addDcOptions(program.command('destroy'))
    .description(
      'delete every machine and network kumo made in this datacenter (orphans included), networks last',
    )
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .option('--parallelism <n>', 'cloud calls in flight per provider (default 8)', positiveInt)
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another run holding the state lock',
      seconds,
    )
    .action(async (opts: ApplyFlags) => {
      requireYesOrTerminal(opts.yes, 'destroy');
      const { dc } = await loadDatacenter(opts.file, opts.stateDb ? { state: opts.stateDb } : {});
      const printer = progressPrinter(progressMode(opts.json));
      try {
        if (opts.yes !== true) {
          const plan = await dc.planDestroy();
          process.stdout.write(`${formatPlan(plan)}\n`);
          if (isEmptyPlan(plan)) return;
          if (!(await confirm(`Destroy everything in datacenter ${dc.name}?`, false, 'destroy'))) {
            process.stdout.write('Nothing destroyed.\n');
            return;
          }
        }
        dc.events.on(printer.listener);
        const { value: result, interrupted } = await withInterrupt('destroy', (signal) =>
          dc.destroy({ ...applyOptions(opts, 'kumo destroy', signal) }),
        );
        printer.end();
        if (!opts.json && result.plan.steps.length === 0)
          process.stdout.write(`Nothing to destroy in datacenter ${dc.name}.\n`);
        process.exitCode = reportSummary(result.summary, opts.json, interrupted, 'Destroy');
      } finally {
        printer.end();
        await dc.close();
      }
    });
}
