/**
 * Everything the logical datacenter changes or notices is told as an event: subscribe
 * with `dc.events.on(listener)` or iterate `for await (const e of dc.events)`.
 */
import type { Machine } from '../core/index.js';
import type { DriftItem } from './refresh.js';
import type { ApplySummary, PlanStep } from './plan-types.js';
import type { LockHolder } from './state/state-store.js';

export type DatacenterEvent =
  | { type: 'lock.waiting'; holder: LockHolder }
  | { type: 'lock.broken'; holder: LockHolder }
  | { type: 'refresh.finished'; machines: number; drift: number; orphans: number }
  | { type: 'drift'; item: DriftItem }
  | { type: 'orphan'; machine: Machine }
  | { type: 'apply.started'; steps: number; creates: number; deletes: number; resumes: number }
  | {
      type: 'intent.journaled';
      kind: string;
      provider: string;
      pool?: string;
      key: string;
      count: number;
    }
  | { type: 'intent.resumed'; kind: string; provider: string; pool?: string; key: string }
  | { type: 'network.ensured'; provider: string; name: string; id: string }
  | { type: 'network.deleted'; provider: string; name: string }
  | { type: 'machine.created'; pool: string; machine: Machine }
  | { type: 'machine.running'; pool: string; machine: Machine }
  | { type: 'machine.started'; pool: string; machine: Machine }
  | { type: 'machine.deleting'; pool: string; id: string; provider: string; reason: string }
  | { type: 'machine.deleted'; pool: string; id: string; provider: string }
  | { type: 'machine.lost'; pool: string; id: string; provider: string; reason: string }
  | { type: 'machine.adopted'; pool: string; machine: Machine }
  | { type: 'step.failed'; step: PlanStep; error: { code: string; message: string } }
  | { type: 'apply.finished'; summary: ApplySummary };

export type DatacenterEventType = DatacenterEvent['type'];
export type Listener = (event: DatacenterEvent) => void;

/**
 * A typed event hub. Listeners run synchronously, in order; one that throws does not
 * stop the others (its error is dropped, as an event must not break an apply or a
 * burst decision halfway). The datacenter's hub carries {@link DatacenterEvent}s; the
 * burst controller's, burst events.
 *
 * @example
 * ```ts
 * const off = dc.events.on((e) => { if (e.type === 'machine.created') console.log(e.machine.id); });
 * off();
 * ```
 */
export class EventHub<E = DatacenterEvent> implements AsyncIterable<E> {
  readonly #listeners = new Set<(event: E) => void>();

  on(listener: (event: E) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  emit(event: E): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // NOTE: a listener's bug must not abort provisioning halfway.
      }
    }
  }

  /** Every event from now on, until the loop breaks. */
  [Symbol.asyncIterator](): AsyncIterator<E> {
    const queue: E[] = [];
    let wake: (() => void) | undefined;
    const off = this.on((e) => {
      queue.push(e);
      wake?.();
    });
    return {
      next: async () => {
        while (queue.length === 0) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        return { value: queue.shift()!, done: false };
      },
      return: () => {
        off();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}
