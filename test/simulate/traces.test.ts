import { beforeAll, describe, expect, it } from 'vitest';
import { BurstPolicySchema, loadSpecFile } from '../../src/logical-dc/index.js';
import { EXAMPLE, loadTrace, runExample, tracePath, traceWindow, type Run } from './helpers.js';
import { itKeepsTheBurstInvariants } from './invariants.js';

// The whole steady trace runs through the CLI in cli.test.ts, with these same checks.
// Windows of the longer traces keep the suite fast: each has the shape that matters
// (bench/burst.bench.ts runs all three in full).
const windows = [
  // Diurnal: the climb into the daily peak, where burst works hardest.
  { trace: 'diurnal', fromH: 12, toH: 14 },
  // Spiky: quiet, then a spike that needs about sixty burst machines at once.
  { trace: 'spiky', fromH: 0, toH: 1 },
] as const;

for (const w of windows)
  describe(`simulating examples/burst.yaml over the ${w.trace} trace (hours ${w.fromH}–${w.toH})`, () => {
    let run: Run;
    beforeAll(async () => {
      run = await runExample(
        traceWindow(loadTrace(tracePath(w.trace)), w.fromH * 3600, w.toH * 3600),
      );
    });
    itKeepsTheBurstInvariants(() => run);
  });

describe('consolidation acting on restartable tasks (spiky, hours 0–1)', () => {
  let run: Run;
  beforeAll(async () => {
    const burst = loadSpecFile(EXAMPLE).spec.burst!;
    run = await runExample(traceWindow(loadTrace(tracePath('spiky')), 0, 3600), {
      restartable: true,
      policy: BurstPolicySchema.parse({
        ...burst,
        consolidation: { act: true, interval: '1m', minSavingPercent: 10 },
      }),
    });
  });
  itKeepsTheBurstInvariants(() => run);

  it('moves tasks off the machines it drains, and every moved task still finishes', () => {
    const { report, events } = run;
    const acted = events.filter((e) => e.type === 'burst.consolidation' && e.acted);
    expect(acted.length).toBeGreaterThan(0);
    expect(report.tasks.moved).toBeGreaterThan(0);
    expect(report.tasks).toMatchObject({ failed: 0, finished: report.tasks.submitted });
  });
});
