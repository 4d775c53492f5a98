import type { Command } from 'commander';
import { effectivePrice } from '../../core/index.js';
import { printJson, table } from '../output.js';
import { resolveProvider } from '../resolve.js';

export function registerSizes(program: Command): void {
  program
    .command('sizes')
    .description('list the machine sizes a provider offers, cheapest first')
    .option('-p, --provider <name>', 'provider kind, or a provider name from the spec file', 'sim')
    .option('-f, --file <spec>', 'spec file declaring the providers')
    .option('--zone <zone>', 'only sizes offered in this zone')
    .option('--spot', 'show spot prices')
    .option('--json', 'JSON output')
    .action(
      async (opts: {
        provider: string;
        file?: string;
        zone?: string;
        spot?: boolean;
        json?: boolean;
      }) => {
        const provider = await resolveProvider(opts.provider, opts.file);
        const sizes = await provider.listSizes({
          ...(opts.zone ? { zone: opts.zone } : {}),
          ...(opts.spot ? { spot: true } : {}),
        });
        sizes.sort(
          (a, b) =>
            (effectivePrice(a, opts.spot) ?? Infinity) -
              (effectivePrice(b, opts.spot) ?? Infinity) || a.name.localeCompare(b.name),
        );
        if (opts.json) return printJson(sizes);
        process.stdout.write(
          `${table(
            [
              'SIZE',
              'VCPU',
              'MEMORY_MIB',
              'GPUS',
              'ARCH',
              opts.spot ? 'SPOT_USD_H' : 'USD_H',
              'ZONES',
            ],
            sizes.map((s) => [
              s.name,
              s.resources.cpus,
              s.resources.memoryMiB,
              s.resources.gpus,
              s.arch,
              effectivePrice(s, opts.spot)?.toFixed(4),
              s.zones.join(',') || 'all',
            ]),
          )}\n`,
        );
      },
    );
}
