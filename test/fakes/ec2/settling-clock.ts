/**
 * Virtual time for simulations that make real (intercepted) HTTP requests: it jumps
 * to the next timer only when nothing is in flight, so a request takes no virtual
 * time however long this machine needs to sign, intercept and parse it, and waits
 * (pacing, backoff, boot, polling) take exactly their virtual length.
 *
 * A plain auto-advancing `VirtualClock` would leap over in-flight requests to the
 * next timer — a loaded machine would then look like a slow cloud.
 *
 * @example
 * ```ts
 * const clock = new SettlingClock({ start: 0, busy: () => provider.requestsInFlight > 0 });
 * ```
 */
import { VirtualClock, type Clock } from '../../../src/core/index.js';

export class SettlingClock implements Clock {
  readonly #inner: VirtualClock;
  #busy: () => boolean;
  #scheduled = false;

  constructor(options: { start?: number; busy?: () => boolean } = {}) {
    this.#inner = new VirtualClock({ start: options.start ?? 0 });
    this.#busy = options.busy ?? (() => false);
  }

  /** Sets what counts as "in flight" (the provider exists only after its clock). */
  whileBusy(busy: () => boolean): void {
    this.#busy = busy;
  }

  now(): number {
    return this.#inner.now();
  }

  schedule(delayMs: number, fn: () => void): () => void {
    const cancel = this.#inner.schedule(delayMs, fn);
    this.#kick();
    return cancel;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const reason = (): Error =>
        signal?.reason instanceof Error
          ? signal.reason
          : new DOMException('This operation was aborted', 'AbortError');
      if (signal?.aborted) {
        reject(reason());
        return;
      }
      const onAbort = (): void => {
        cancel();
        reject(reason());
      };
      const cancel = this.schedule(Math.max(0, ms), () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.#tick());
  }

  async #tick(): Promise<void> {
    this.#scheduled = false;
    if (this.#inner.pending === 0) return;
    if (this.#busy()) {
      // NOTE: a timer, not setImmediate, so waiting for I/O does not spin the CPU.
      this.#scheduled = true;
      setTimeout(() => void this.#tick(), 1);
      return;
    }
    await this.#inner.step();
    if (this.#inner.pending > 0) this.#kick();
  }
}
