import type { Command } from 'commander';
import { imageAliasNames, isKumoError, type Image } from '../../core/index.js';
import { printJson, table } from '../output.js';
import { resolveProvider } from '../resolve.js';

export function registerImages(program: Command): void {
  program
    .command('images')
    .description('resolve the image aliases (ubuntu-22.04, debian-12, …) on a provider')
    .option('-p, --provider <name>', 'provider kind, or a provider name from the spec file', 'sim')
    .option('-f, --file <spec>', 'spec file declaring the providers')
    .option('--json', 'JSON output')
    .argument('[images...]', 'aliases or native ids to resolve (default: every alias)')
    .action(async (images: string[], opts: { provider: string; file?: string; json?: boolean }) => {
      const provider = await resolveProvider(opts.provider, opts.file);
      const wanted = images.length > 0 ? images : imageAliasNames();
      const rows: { image: string; resolved?: Image; error?: string }[] = [];
      for (const image of wanted) {
        try {
          rows.push({ image, resolved: await provider.resolveImage(image) });
        } catch (err) {
          // Asked-for images must resolve; aliases a provider lacks are only listed as such.
          if (images.length > 0 || !isKumoError(err) || err.code !== 'NotFound') throw err;
          rows.push({ image, error: 'not offered' });
        }
      }
      if (opts.json) return printJson(rows);
      process.stdout.write(
        `${table(
          ['IMAGE', 'ID', 'OS', 'VERSION', 'ARCH'],
          rows.map((r) => [
            r.image,
            r.resolved?.id ?? r.error,
            r.resolved?.os,
            r.resolved?.version,
            r.resolved?.arch,
          ]),
        )}\n`,
      );
    });
}
