import { beforeAll, describe } from 'vitest';
import { loadTrace, runExample, tracePath, traceWindow, type Run } from './helpers.js';
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
