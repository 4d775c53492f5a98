import type { Command } from 'commander';
import { MachineStateSchema, parse, ValidationError, type MachineState } from '../../core/index.js';
import { addDcOptions, type DcOptions } from '../dc-command.js';
import { printJson, table } from '../output.js';
import { loadDatacenter } from '../spec-loader.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

export function registerMachines(program: Command): void {
  addDcOptions(program.command('machines'))
    .description('list the datacenter machines, filtered by pool, provider, zone, state or label')
    .option('--pool <pool>', 'only this pool')
    .option('--provider <name>', 'only this provider')
    .option('--zone <zone>', 'only this zone')
    .option(
      '--state <state>',
      'only this state (pending, running, stopping, stopped, terminated, error)',
    )
    .option('-l, --label <key=value>', 'only machines with this label (repeatable)', collect, [])
    .action(
      async (
        opts: DcOptions & {
          pool?: string;
          provider?: string;
          zone?: string;
          state?: string;
          label: string[];
        },
      ) => {
        const labels: Record<string, string> = {};
        for (const l of opts.label) {
          const i = l.indexOf('=');
          if (i <= 0)
            throw new ValidationError(`--label ${l}: use key=value`, {
              issues: [{ path: '--label', message: 'use key=value' }],
            });
          labels[l.slice(0, i)] = l.slice(i + 1);
        }
        const state: MachineState | undefined =
          opts.state === undefined
            ? undefined
            : parse(MachineStateSchema, opts.state, 'machine state', '--state');
        const { dc } = await loadDatacenter(opts.file, {
          readOnly: true,
          ...(opts.stateDb ? { state: opts.stateDb } : {}),
        });
        try {
          const machines = await dc.machines({
            ...(opts.pool ? { pool: opts.pool } : {}),
            ...(opts.provider ? { provider: opts.provider } : {}),
            ...(opts.zone ? { zone: opts.zone } : {}),
            ...(state ? { state } : {}),
            ...(opts.label.length ? { labels } : {}),
          });
          if (opts.json) return printJson(machines);
          process.stdout.write(
            `${table(
              ['ID', 'POOL', 'PROVIDER', 'ZONE', 'SIZE', 'STATE', 'ADDRESS', 'USD_H'],
              machines.map((m) => [
                m.id,
                m.pool,
                m.provider,
                m.zone,
                m.size,
                m.status === 'present' ? m.state : `${m.state} (${m.status})`,
                m.addresses[0]?.address,
                m.pricePerHour?.toFixed(4),
              ]),
            )}\n`,
          );
        } finally {
          await dc.close();
        }
      },
    );
}
