import { describe, expect, it } from 'vitest';
import {
  NotFound,
  Throttled,
  VirtualClock,
  withRetries,
  type Provider,
} from '../../src/core/index.js';
import { sim } from '../../src/providers/sim/index.js';

describe('withRetries', () => {
  it('retries throttled calls, reports each retry and passes other errors straight through', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const base = sim({ latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } }, { clock });
    let failures = 2;
    const flaky: Provider = Object.assign(Object.create(base) as Provider, {
      listSizes: async () => {
        if (failures-- > 0) throw new Throttled('slow', { provider: 'sim' });
        return base.listSizes();
      },
      getMachine: async () => Promise.reject(new NotFound('gone')),
    });
    const events: string[] = [];
    const wrapped = withRetries(flaky, {
      clock,
      onRetry: (e) => events.push(`${e.method}#${e.attempt}`),
    });
    expect((await wrapped.listSizes()).length).toBeGreaterThan(0);
    expect(events).toEqual(['listSizes#1', 'listSizes#2']);
    await expect(wrapped.getMachine('x')).rejects.toThrow(NotFound);
    expect(wrapped.name).toBe('sim');
  });

  it("names the provider on every kumo error that does not name one, and leaves others' as they are", async () => {
    const base = sim({}, { clock: new VirtualClock({ autoAdvance: true }) });
    const failing: Provider = Object.assign(Object.create(base) as Provider, {
      getMachine: async () => Promise.reject(new NotFound('gone')),
      listMachines: async () => Promise.reject(new NotFound('elsewhere', { provider: 'other' })),
      listSizes: async () => Promise.reject(new TypeError('a bug')),
    });
    const wrapped = withRetries(failing);
    await expect(wrapped.getMachine('x')).rejects.toMatchObject({ provider: 'sim' });
    await expect(wrapped.listMachines()).rejects.toMatchObject({ provider: 'other' });
    const bug = await wrapped.listSizes().catch((e: unknown) => e);
    expect(bug).toBeInstanceOf(TypeError);
    expect(bug).not.toHaveProperty('provider');
  });
});

describe('waiting out of time', () => {
  it('is not repeated by withRetries: a create whose machines boot too slowly runs once, not once per attempt', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    // sim() wraps its provider in withRetries; its boot takes 10 minutes here.
    const cloud = sim(
      {
        latency: { apiMs: 0, bootMs: 600_000, stopMs: 0, deleteMs: 0 },
        retryAttempts: 4,
      },
      { clock },
    );
    const retried: string[] = [];
    const wrapped = withRetries(cloud, {
      clock,
      attempts: 4,
      onRetry: (e) => retried.push(e.method),
    });
    const started = clock.now();
    const err: unknown = await wrapped
      .createMachines(
        {
          spec: { size: 'cpu-2x4', image: 'ubuntu-22.04' },
          count: 1,
          idempotencyKey: 'slow-boot',
        },
        { timeoutMs: 60_000 },
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'Timeout', retryable: false });
    expect(retried).toEqual([]);
    expect(clock.now() - started).toBeLessThan(120_000); // one wait, not four
  });
});
