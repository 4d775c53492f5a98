import { join } from 'node:path';
import type { Clock, Provider } from '../../src/core/index.js';
import { loadSpecFile, type BurstEvent, type SpecFile } from '../../src/logical-dc/index.js';
import {
  loadTrace,
  simulate,
  type SimulationOptions,
  type SimulationReport,
  type TraceRow,
} from '../../src/logical-dc/simulate/index.js';
import { sim } from '../../src/providers/sim/index.js';

const root = join(import.meta.dirname, '..', '..');

/** The shipped example: `examples/burst.yaml`. */
export const EXAMPLE = join(root, 'examples', 'burst.yaml');

/** A shipped trace: `examples/traces/<name>.csv`. */
export function tracePath(name: 'steady' | 'diurnal' | 'spiky'): string {
  return join(root, 'examples', 'traces', `${name}.csv`);
}

/**
 * The rows submitted in `[fromS, toS)`, moved so the first second of the window is 0:
 * a slice of a long trace that still has its shape (a spike, the daily peak).
 */
export function traceWindow(rows: readonly TraceRow[], fromS: number, toS: number): TraceRow[] {
  return rows
    .filter((r) => r.submit_s >= fromS && r.submit_s < toS)
    .map((r) => ({ ...r, submit_s: r.submit_s - fromS }));
}

/** The file's providers, every one a sim cloud with the file's settings, on `clock`. */
export function simProviders(file: SpecFile): (clock: Clock) => Record<string, Provider> {
  return (clock) =>
    Object.fromEntries(
      Object.entries(file.providers).map(([name, decl]) => {
        if (decl.kind !== 'sim') throw new Error(`${name}: the example uses sim providers only`);
        return [name, sim({ ...decl.settings, name }, { clock })];
      }),
    );
}

export interface Run {
  readonly file: SpecFile;
  readonly report: SimulationReport;
  /** Every burst event, in order, as the controller emitted it. */
  readonly events: BurstEvent[];
}

/** Simulates the example spec over `trace` (options override the defaults). */
export async function runExample(
  trace: readonly TraceRow[],
  options: Partial<Omit<SimulationOptions, 'trace' | 'onEvent'>> = {},
): Promise<Run> {
  const file = loadSpecFile(EXAMPLE);
  const events: BurstEvent[] = [];
  const report = await simulate({
    name: file.name,
    spec: file.spec,
    providers: simProviders(file),
    trace,
    ...options,
    onEvent: (e) => events.push(e),
  });
  return { file, report, events };
}

export { loadTrace };
