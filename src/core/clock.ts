/**
 * Time, injected. Real code uses {@link systemClock}; tests and simulations use a
 * {@link VirtualClock}, so hours of provisioning, draining and bursting run in
 * milliseconds and the same seed gives the same run.
 */
export interface Clock {
  /** Milliseconds since the epoch (real) or since the clock's start (virtual). */
  now(): number;
  /** Calls `fn` once after `delayMs`; the returned function cancels it. */
  schedule(delayMs: number, fn: () => void): () => void;
  /** Resolves after `ms`, or rejects with the signal's reason when aborted. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

function sleepOn(clock: Pick<Clock, 'schedule'>, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      cancel();
      reject(abortReason(signal));
    };
    const cancel = clock.schedule(Math.max(0, ms), () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  return reason instanceof Error
    ? reason
    : new DOMException('This operation was aborted', 'AbortError');
}

/** The wall clock. Timers do not keep the process alive on their own account. */
export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(delayMs, fn) {
    const t = setTimeout(fn, delayMs);
    return () => clearTimeout(t);
  },
  sleep(ms, signal) {
    return sleepOn(this, ms, signal);
  },
};

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets pending promise continuations run (they may schedule more timers). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * A clock that moves only when told to — or, with `autoAdvance`, jumps to the next
 * timer whenever the process has nothing else to do, so code that sleeps on it runs
 * at full speed in virtual time.
 *
 * @example
 * ```ts
 * const clock = new VirtualClock({ start: 0 });
 * const done = clock.sleep(60_000).then(() => clock.now()); // 60000
 * await clock.advance(60_000);
 * ```
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];
  #autoAdvance: boolean;
  #tickScheduled = false;

  constructor(options: { start?: number; autoAdvance?: boolean } = {}) {
    this.#now = options.start ?? 0;
    this.#autoAdvance = options.autoAdvance ?? false;
  }

  now(): number {
    return this.#now;
  }

  /** How many timers are waiting. */
  get pending(): number {
    return this.#timers.length;
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const timer: Timer = { at: this.#now + Math.max(0, delayMs), seq: this.#seq++, fn };
    // Binary insertion keeps timers ordered by (at, seq): deterministic firing order.
    let lo = 0;
    let hi = this.#timers.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const t = this.#timers[mid]!;
      if (t.at < timer.at || (t.at === timer.at && t.seq < timer.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#timers.splice(lo, 0, timer);
    this.#kick();
    return () => {
      const i = this.#timers.indexOf(timer);
      if (i >= 0) this.#timers.splice(i, 1);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return sleepOn(this, ms, signal);
  }

  /** Moves time forward by `ms`, firing every timer due on the way, in order. */
  async advance(ms: number): Promise<void> {
    await this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `target`, firing due timers and letting their continuations run. */
  async advanceTo(target: number): Promise<void> {
    await settle();
    for (;;) {
      const next = this.#timers[0];
      if (next === undefined || next.at > target) break;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      await settle();
    }
    this.#now = Math.max(this.#now, target);
  }

  /** Fires the earliest timer (and any due at the same instant); false when none is waiting. */
  async step(): Promise<boolean> {
    const next = this.#timers[0];
    if (next === undefined) return false;
    await this.advanceTo(next.at);
    return true;
  }

  #kick(): void {
    if (!this.#autoAdvance || this.#tickScheduled) return;
    this.#tickScheduled = true;
    setImmediate(() => {
      this.#tickScheduled = false;
      // NOTE: by the time this runs, every continuation queued so far has run, so the
      // process is idle on this clock and jumping to the next timer is safe.
      const next = this.#timers[0];
      if (next === undefined) return;
      this.#timers.shift();
      this.#now = Math.max(this.#now, next.at);
      next.fn();
      if (this.#timers.length > 0) this.#kick();
    });
  }
}
