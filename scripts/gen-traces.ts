/**
 * Writes the shipped workload traces, examples/traces/{steady,diurnal,spiky}.csv, with
 * the seeded generator (src/logical-dc/simulate/trace-generator.ts). Run again after
 * changing the generator: `npx tsx scripts/gen-traces.ts`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  formatTrace,
  generateTrace,
  traceStats,
  TRACE_KINDS,
} from '../src/logical-dc/simulate/index.js';

const SEEDS = { steady: 101, diurnal: 202, spiky: 303 } as const;
const dir = join(import.meta.dirname, '..', 'examples', 'traces');
for (const kind of TRACE_KINDS) {
  const seed = SEEDS[kind];
  const rows = generateTrace(kind, { seed });
  const stats = traceStats(rows);
  const path = join(dir, `${kind}.csv`);
  writeFileSync(
    path,
    formatTrace(rows, [
      `kumo workload trace "${kind}": made by scripts/gen-traces.ts (seed ${seed}); do not edit by hand`,
      `${stats.jobs} jobs, ${stats.tasks} tasks, ${stats.cpuHours} vCPU-hours; one job per row`,
    ]),
  );
  process.stdout.write(
    `${path}: ${stats.jobs} jobs, ${stats.tasks} tasks, ${stats.cpuHours} vCPU-hours\n`,
  );
}
