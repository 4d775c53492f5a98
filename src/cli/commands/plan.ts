import { existsSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { ValidationError } from '../../core/index.js';
import { formatPlan } from '../../logical-dc/index.js';
import { addDcOptions, type DcOptions } from '../dc-command.js';
import { optionError, printJson } from '../output.js';
import { machineProblems } from '../plan-check.js';
import { loadDatacenter } from '../spec-loader.js';

/** A path as typed from here: relative when under the working directory. */
function shownPath(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

function badOut(path: string, message: string): ValidationError {
  return optionError(`-o ${path}`, '--out', message);
}

function checkPlanPath(path: string): void {
  const dir = dirname(resolve(path));
  if (!existsSync(dir)) throw badOut(path, `the directory ${dir} does not exist`);
  if (existsSync(path) && statSync(path).isDirectory()) throw badOut(path, 'is a directory');
}

function savePlan(path: string, plan: unknown): void {
  try {
    writeFileSync(path, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badOut(path, code === 'EACCES' ? 'not allowed to write there' : String(err));
  }
}

export function registerPlan(program: Command): void {
  addDcOptions(program.command('plan'))
    .description('show what apply would change: + create, - delete, ~ replace or start')
    .option(
      '-o, --out <plan.json>',
      'save the plan; `kumo apply plan.json` applies exactly it, if state has not moved',
    )
    .option('--prune', 'also delete orphans')
    .option(
      '--create-before-destroy',
      'on a spec change, create each replacement before deleting the old machine',
    )
    .action(
      async (
        opts: DcOptions & { out?: string; prune?: boolean; createBeforeDestroy?: boolean },
      ) => {
        // Before anything runs: a plan that cannot be saved is not worth making.
        if (opts.out !== undefined) checkPlanPath(opts.out);
        const { file, dc } = await loadDatacenter(opts.file, {
          // A plan saved to apply later is made against the state it will be applied
          // to, so that state must exist from now on.
          readOnly: opts.out === undefined,
          ...(opts.stateDb ? { state: opts.stateDb } : {}),
        });
        try {
          const plan = await dc.plan(file.spec, {
            ...(opts.prune ? { prune: true } : {}),
            ...(opts.createBeforeDestroy ? { createBeforeDestroy: true } : {}),
          });
          const problems = await machineProblems(plan, dc.providers);
          if (problems.length > 0) throw file.error(problems);
          if (opts.out !== undefined) savePlan(opts.out, plan);
          if (opts.json) return printJson(plan);
          process.stdout.write(`${formatPlan(plan)}\n`);
          if (opts.out !== undefined)
            process.stdout.write(
              `Saved the plan to ${opts.out}; apply exactly it with: kumo apply ${opts.out} -f ${shownPath(file.path)}\n`,
            );
        } finally {
          await dc.close();
        }
      },
    );
}
