import type { Command } from 'commander';
import { addDcOptions, seconds, type DcOptions } from '../dc-command.js';
import { printJson } from '../output.js';
import { loadDatacenter } from '../spec-loader.js';

export function registerRefresh(program: Command): void {
  addDcOptions(program.command('refresh'))
    .description(
      'read the machines from the providers, record drift (gone, stopped, changed) and list orphans',
    )
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another run holding the state lock',
      seconds,
    )
    .action(async (opts: DcOptions & { lockTimeout?: number }) => {
      const { dc } = await loadDatacenter(opts.file, opts.stateDb ? { state: opts.stateDb } : {});
      try {
        const report = await dc.refresh({
          command: 'kumo refresh',
          ...(opts.lockTimeout !== undefined ? { lockTimeoutMs: opts.lockTimeout * 1000 } : {}),
        });
        if (opts.json) return printJson(report);
        const lines = [`Refreshed ${report.machines} machine(s) of datacenter ${dc.name}.`];
        lines.push(
          report.drift.length === 0
            ? 'Drift: none.'
            : `Drift: ${report.drift.length} (kumo plan shows what apply does about it)`,
        );
        for (const d of report.drift)
          lines.push(`  ${d.id} (${d.pool} on ${d.provider}) ${d.kind}: ${d.detail}`);
        lines.push(
          report.orphans.length === 0
            ? 'Orphans: none.'
            : `Orphans: ${report.orphans.length} (kumo adopt takes them into state; kumo apply --prune deletes them)`,
        );
        for (const o of report.orphans)
          lines.push(
            `  ${o.id} on ${o.provider} (${o.providerId}, pool ${o.labels['kumo-pool'] ?? '?'}, ${o.state})`,
          );
        process.stdout.write(`${lines.join('\n')}\n`);
      } finally {
        await dc.close();
      }
    });
}
