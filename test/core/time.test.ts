import { describe, expect, it, vi } from 'vitest';
import {
  backoffDelay,
  BatchPoller,
  createRateLimiter,
  NotFound,
  ProviderError,
  retry,
  seededRandom,
  systemClock,
  Throttled,
  Timeout,
  VirtualClock,
  waitUntil,
} from '../../src/core/index.js';

describe('virtual clock', () => {
  it('fires timers in time order when advanced', async () => {
    const clock = new VirtualClock();
    const order: number[] = [];
    clock.schedule(30, () => order.push(30));
    clock.schedule(10, () => order.push(10));
    const cancel = clock.schedule(20, () => order.push(20));
    cancel();
    await clock.advance(25);
    expect(order).toEqual([10]);
    expect(clock.now()).toBe(25);
    await clock.advance(10);
    expect(order).toEqual([10, 30]);
  });

  it('jumps to the next timer by itself when auto-advancing', async () => {
    const clock = new VirtualClock({ start: 1000, autoAdvance: true });
    await clock.sleep(3_600_000);
    expect(clock.now()).toBe(3_601_000);
  });

  it('steps one timer at a time', async () => {
    const clock = new VirtualClock();
    expect(await clock.step()).toBe(false);
    clock.schedule(5, () => undefined);
    expect(await clock.step()).toBe(true);
    expect(clock.now()).toBe(5);
    expect(clock.pending).toBe(0);
  });

  it('rejects a sleep when its signal aborts', async () => {
    const clock = new VirtualClock();
    const ac = new AbortController();
    const sleeping = clock.sleep(1000, ac.signal);
    ac.abort(new Error('stop'));
    await expect(sleeping).rejects.toThrow('stop');
    await expect(clock.sleep(1, ac.signal)).rejects.toThrow('stop');
  });

  it('the system clock sleeps for real', async () => {
    const t0 = systemClock.now();
    await systemClock.sleep(5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(t0);
  });
});

describe('retry', () => {
  it('uses full jitter under a growing ceiling', () => {
    const top = () => 0.999999;
    expect(backoffDelay(0, { baseMs: 100, random: top })).toBe(99);
    expect(backoffDelay(3, { baseMs: 100, random: top })).toBe(799);
    expect(backoffDelay(20, { baseMs: 100, maxMs: 1000, random: top })).toBe(999);
    expect(backoffDelay(2, { random: () => 0 })).toBe(0);
  });

  it('waits at least as long as the server’s retry-after', () => {
    expect(backoffDelay(0, { random: () => 0 }, new Throttled('x', { retryAfterMs: 2500 }))).toBe(
      2500,
    );
  });

  it('retries retryable errors and then succeeds', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    let calls = 0;
    const retries: number[] = [];
    const out = await retry(
      async () => {
        calls += 1;
        if (calls < 3) throw new ProviderError('503', { retryable: true });
        return 'ok';
      },
      { clock, random: seededRandom(1), onRetry: (i) => retries.push(i.attempt) },
    );
    expect(out).toBe('ok');
    expect(retries).toEqual([1, 2]);
  });

  it('does not retry what cannot succeed', async () => {
    let calls = 0;
    await expect(
      retry(async () => {
        calls += 1;
        throw new NotFound('gone');
      }),
    ).rejects.toThrow(NotFound);
    expect(calls).toBe(1);
  });

  it('gives up after the attempts allowed, with the last error', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    let calls = 0;
    await expect(
      retry(
        async () => {
          calls += 1;
          throw new Throttled(`try ${calls}`);
        },
        { attempts: 3, clock },
      ),
    ).rejects.toThrow('try 3');
  });
});

describe('waitUntil', () => {
  it('returns the first truthy probe result', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    let n = 0;
    expect(await waitUntil(async () => (++n >= 3 ? n : undefined), { clock })).toBe(3);
  });

  it('times out naming what it waited for', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    await expect(
      waitUntil(async () => false, {
        clock,
        timeoutMs: 5000,
        what: 'web-1 running',
        provider: 'sim',
      }),
    ).rejects.toThrow(/timed out after 5000 ms waiting for web-1 running/);
  });
});

describe('rate limiter', () => {
  it('keeps calls in flight under the concurrency', async () => {
    const limiter = createRateLimiter({ concurrency: 2 });
    let inFlight = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 6 }, () =>
        limiter.run(async () => {
          inFlight += 1;
          peak = Math.max(peak, inFlight);
          await new Promise((r) => setTimeout(r, 2));
          inFlight -= 1;
        }),
      ),
    );
    expect(peak).toBe(2);
    await limiter.onIdle();
    expect(limiter.waiting + limiter.running).toBe(0);
  });

  it('paces calls to the rate on its clock', async () => {
    const clock = new VirtualClock({ start: 0, autoAdvance: true });
    const limiter = createRateLimiter({ concurrency: 100, intervalCap: 10, burst: 1, clock });
    const starts: number[] = [];
    await Promise.all(
      Array.from({ length: 11 }, () => limiter.run(async () => void starts.push(clock.now()))),
    );
    // One token at start, then 10 per second: the 11th call starts at 1 s.
    expect(starts[starts.length - 1]).toBe(1000);
  });
});

describe('batch poller', () => {
  it('answers many waiters with one call per round', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const fetch = vi.fn(
      async (ids: readonly string[]) =>
        new Map(ids.map((id) => [id, clock.now() >= 3000 ? 'running' : 'pending'])),
    );
    const poller = new BatchPoller({ fetch, clock, intervalMs: 1000 });
    const done = (m: ReadonlyMap<string, string>) => [...m.values()].every((s) => s === 'running');
    const [a, b] = await Promise.all([
      poller.waitFor(['a', 'b'], done),
      poller.waitFor(['c'], done),
    ]);
    expect([...a.keys()]).toEqual(['a', 'b']);
    expect([...b.keys()]).toEqual(['c']);
    expect(fetch).toHaveBeenCalledTimes(3);
    expect(fetch.mock.calls[0]![0]).toEqual(['a', 'b', 'c']);
  });

  it('rides out throttling between rounds', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    let calls = 0;
    const poller = new BatchPoller({
      clock,
      fetch: async (ids) => {
        calls += 1;
        if (calls <= 2) throw new Throttled('slow');
        return new Map(ids.map((id) => [id, 1]));
      },
    });
    expect((await poller.waitFor(['x'], (m) => m.size === 1)).get('x')).toBe(1);
  });

  it('fails waiters on an error that retrying cannot fix', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const poller = new BatchPoller({
      clock,
      fetch: async () => Promise.reject(new NotFound('no')),
    });
    await expect(poller.waitFor(['x'], () => true)).rejects.toThrow(NotFound);
  });

  it('times out a waiter whose machines never settle', async () => {
    const clock = new VirtualClock({ autoAdvance: true });
    const poller = new BatchPoller({ clock, fetch: async () => new Map<string, number>() });
    await expect(
      poller.waitFor(['x'], () => false, { timeoutMs: 10_000, what: 'x running' }),
    ).rejects.toThrow(Timeout);
  });
});
