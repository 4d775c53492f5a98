import { describe, expect, it } from 'vitest';
import { planConsolidation, type TaskShape } from '../../src/logical-dc/burst/consolidation.js';
import type { AgentView } from '../../src/scheduler/index.js';

const task: TaskShape = { cpus: 2, memoryMiB: 2048, gpus: 0, diskGiB: 0, ports: 0 };
const room = (id: string, cpus: number): AgentView => ({
  id,
  hostname: id,
  attributes: { labels: {} },
  available: { cpus, memoryMiB: cpus * 1024, gpus: 0, diskGiB: 0, ports: 0 },
});

describe('planning a consolidation', () => {
  it('empties a machine into the free room of others', () => {
    const plan = planConsolidation({
      machines: [{ id: 'a', pricePerHour: 0.1, tasks: [task] }],
      rooms: [room('base', 4)],
      candidates: [],
      perGroup: new Map(),
    });
    expect(plan).toMatchObject({ removable: ['a'], tasks: 1, savingPerHour: 0.1 });
  });

  it('never also empties a machine that takes moved tasks', () => {
    // a's task fits in b's free room; b's two tasks would fit on the base machine, but
    // emptying b as well would leave a's task nowhere.
    const plan = planConsolidation({
      machines: [
        { id: 'a', pricePerHour: 0.1, tasks: [task] },
        { id: 'b', pricePerHour: 0.2, tasks: [task, task] },
      ],
      rooms: [room('b', 2), room('base', 4)],
      candidates: [],
      perGroup: new Map(),
    });
    expect(plan.removable).toEqual(['a']);
    expect(plan.savingPerHour).toBeCloseTo(0.1, 9);
  });
});
