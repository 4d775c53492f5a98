/**
 * `npm run bench [-- filter…]`: runs every bench (or those whose name contains a
 * filter), prints a table and merges the figures into bench/results.json by name, so
 * a subset run keeps the other figures.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Bench, Figure } from './harness.js';

const here = import.meta.dirname;
const filters = process.argv.slice(2).filter((a) => a !== '--');
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts'))
  .sort();

const figures: Figure[] = [];
for (const file of files) {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { benches?: Bench[] };
  for (const bench of mod.benches ?? []) {
    if (filters.length > 0 && !filters.some((f) => bench.name.includes(f) || file.includes(f)))
      continue;
    process.stdout.write(`running ${bench.name} …\n`);
    const out = await bench.run();
    for (const f of out)
      process.stdout.write(
        `  ${f.name.padEnd(48)} ${String(f.value).padStart(14)} ${f.unit}${f.note ? `   (${f.note})` : ''}\n`,
      );
    figures.push(...out);
  }
}

const resultsPath = join(here, 'results.json');
const previous: { name: string; value: number; unit: string }[] = existsSync(resultsPath)
  ? (JSON.parse(readFileSync(resultsPath, 'utf8')) as {
      name: string;
      value: number;
      unit: string;
    }[])
  : [];
const merged = new Map(previous.map((f) => [f.name, f]));
for (const f of figures) merged.set(f.name, { name: f.name, value: f.value, unit: f.unit });
const sorted = [...merged.values()].sort((a, b) => a.name.localeCompare(b.name));
writeFileSync(resultsPath, `${JSON.stringify(sorted, null, 2)}\n`);
process.stdout.write(
  `\n${figures.length} figure(s) written to bench/results.json (${sorted.length} in all)\n`,
);
