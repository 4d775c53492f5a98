import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { ValidationError } from '../../core/index.js';
import { formatPlan, isEmptyPlan, type ApplyResult, type Plan } from '../../logical-dc/index.js';
import { confirm, requireYesOrTerminal } from '../confirm.js';
import {
  addApplyOptions,
  addDcOptions,
  applyOptions,
  reportSummary,
  withInterrupt,
  type ApplyFlags,
} from '../dc-command.js';
import { EXIT } from '../output.js';
import { machineProblems } from '../plan-check.js';
import { progressMode, progressPrinter } from '../progress.js';
import { loadDatacenter, rememberSpec } from '../spec-loader.js';

function readPlanFile(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    throw new ValidationError(
      `plan file ${path} cannot be read: ${err instanceof Error ? err.message : String(err)}`,
      { issues: [{ path: 'plan', message: 'not a readable JSON plan' }] },
    );
  }
}

export function registerApply(program: Command): void {
  addApplyOptions(addDcOptions(program.command('apply')))
    .description(
      'make the datacenter match the spec (or apply a saved plan); resumes an interrupted apply',
    )
    .argument('[plan]', 'a plan saved by kumo plan -o (applied only if state has not moved since)')
    .option('-y, --yes', 'do not ask for confirmation (required when stdin is not a terminal)')
    .action(async (planFile: string | undefined, opts: ApplyFlags) => {
      // A saved plan was reviewed when it was made, as with terraform apply PLANFILE.
      if (planFile === undefined) requireYesOrTerminal(opts.yes, 'apply');
      const { file, dc } = await loadDatacenter(
        opts.file,
        opts.stateDb ? { state: opts.stateDb } : {},
      );
      // Later commands in this directory default to the file applied here, once an
      // apply really ran (not when the answer was no, nor when the state refused it:
      // another datacenter's state, a held lock), and only for its own state.
      const remember = <T>(result: T): T => {
        if (opts.file !== undefined && opts.stateDb === undefined) rememberSpec(opts.file);
        return result;
      };
      const printer = progressPrinter(progressMode(opts.json));
      try {
        const { value: result, interrupted } = await withInterrupt(
          'apply',
          async (signal): Promise<ApplyResult | undefined> => {
            const options = applyOptions(opts, 'kumo apply', signal);
            if (planFile !== undefined) {
              dc.events.on(printer.listener);
              return remember(
                await dc.apply(readPlanFile(planFile) as Parameters<typeof dc.apply>[0], options),
              );
            }
            // Sizes and images are checked as plan checks them, before anything changes:
            // a spec no cloud can run is bad input (exit 2), not a half-done apply.
            const check = async (plan: Plan): Promise<void> => {
              const problems = await machineProblems(plan, dc.providers);
              if (problems.length > 0) throw file.error(problems);
            };
            if (opts.yes !== true) {
              const plan = await dc.plan(file.spec, options);
              await check(plan);
              // Interactive: show the plan, ask, then apply exactly what was shown.
              process.stdout.write(`${formatPlan(plan)}\n`);
              if (isEmptyPlan(plan)) return undefined;
              if (!(await confirm('Apply these changes?', false, 'apply'))) {
                process.stdout.write('Nothing applied.\n');
                return undefined;
              }
              dc.events.on(printer.listener);
              return remember(await dc.apply(plan, options));
            }
            // Planned, checked and applied under one lock: the clouds are read once, and a
            // run that started meanwhile is waited for, not mistaken for a stale plan.
            dc.events.on(printer.listener);
            return remember(await dc.apply(file.spec, { ...options, check }));
          },
        );
        printer.end();
        if (result === undefined) return;
        if (!opts.json && result.plan.steps.length === 0)
          process.stdout.write(`${formatPlan(result.plan)}\n`);
        process.exitCode = reportSummary(result.summary, opts.json, interrupted, 'Apply');
      } catch (err) {
        printer.end();
        throw err;
      } finally {
        await dc.close();
      }
      if (process.exitCode === undefined) process.exitCode = EXIT.ok;
    });
}
