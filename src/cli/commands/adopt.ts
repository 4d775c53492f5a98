import type { Command } from 'commander';
import { addDcOptions, seconds, type DcOptions } from '../dc-command.js';
import { printJson } from '../output.js';
import { loadDatacenter } from '../spec-loader.js';

export function registerAdopt(program: Command): void {
  addDcOptions(program.command('adopt'))
    .description(
      'take orphans (kumo-tagged machines of this datacenter that state does not know) into state',
    )
    .argument('[ids...]', 'machine ids or provider ids to adopt (default: every orphan)')
    .option(
      '--lock-timeout <seconds>',
      'wait this long for another run holding the state lock',
      seconds,
    )
    .action(async (ids: string[], opts: DcOptions & { lockTimeout?: number }) => {
      const { dc } = await loadDatacenter(opts.file, opts.stateDb ? { state: opts.stateDb } : {});
      try {
        const adopted = await dc.adopt(ids.length > 0 ? ids : undefined, {
          command: 'kumo adopt',
          ...(opts.lockTimeout !== undefined ? { lockTimeoutMs: opts.lockTimeout * 1000 } : {}),
        });
        if (opts.json) return printJson(adopted);
        if (adopted.length === 0) process.stdout.write('No orphans to adopt.\n');
        for (const m of adopted)
          process.stdout.write(`adopted  ${m.id} (${m.providerId}) into pool ${m.pool}\n`);
        if (adopted.length > 0)
          process.stdout.write(
            `Adopted ${adopted.length} machine(s); kumo plan shows whether their pools keep or replace them.\n`,
          );
      } finally {
        await dc.close();
      }
    });
}
