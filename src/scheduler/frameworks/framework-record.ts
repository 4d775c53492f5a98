import { OfferFilters } from '../filters/offer-filters.js';
import type { Offer } from '../offers/offer.js';
import type { SorterNode } from '../sorter/drf-sorter.js';
import type { TaskRecord, TaskStatus } from '../tasks/task.js';
import { EventStream } from './event-stream.js';
import type { FrameworkCallbacks, FrameworkEvent } from './framework-events.js';
import type { DemandInput } from './framework-schemas.js';

export type FrameworkStatus = 'connected' | 'disconnected' | 'removed';

/** An update waiting for `acknowledge` (explicit acknowledgements only). */
export interface PendingAck {
  status: TaskStatus;
  sentAt: number;
}

/**
 * The scheduler's record of one framework, and its outbox: events are queued while
 * the scheduler works and delivered together on a microtask, so a callback never runs
 * in the middle of a scheduler call.
 */
export class FrameworkRecord {
  status: FrameworkStatus = 'connected';
  /** Bumped on every (re)registration; stale handles compare it. */
  epoch = 0;
  readonly clients = new Map<string, SorterNode<FrameworkRecord>>();
  readonly suppressed = new Set<string>();
  readonly filters = new OfferFilters();
  /** Outstanding offers. */
  offerCount = 0;
  readonly tasks = new Map<string, TaskRecord<FrameworkRecord>>();
  /** Tasks not yet terminal (the rest of `tasks` await acknowledgement). */
  live = 0;
  readonly pendingAcks = new Map<string, PendingAck>();
  /**
   * With implicit acknowledgements, each task's latest update made while disconnected,
   * delivered on failover: the task record is gone by then, so otherwise the framework
   * would only hear it as unknown.
   */
  readonly unsent = new Map<string, TaskStatus>();
  /** Offers made in the current pass, sent as one event when it ends. */
  pendingOffers: Offer[] = [];
  demand: (() => readonly DemandInput[]) | undefined;
  cancelFailover: (() => void) | undefined;
  callbacks: FrameworkCallbacks | undefined;
  #streams = new Set<EventStream<FrameworkEvent>>();
  /** Events, and bare statuses (wrapped only if a stream wants them: there are millions). */
  #outbox: (FrameworkEvent | TaskStatus)[] = [];
  #flushQueued = false;

  constructor(
    readonly seq: number,
    readonly id: string,
    public name: string,
    public roles: readonly string[],
    public weight: number,
    public failoverTimeoutMs: number,
    public acknowledgements: 'implicit' | 'explicit',
    private readonly onCallbackError: (error: unknown, framework: FrameworkRecord) => void,
  ) {}

  /** A new event stream that sees every event from now on. */
  openStream(): EventStream<FrameworkEvent> {
    const stream: EventStream<FrameworkEvent> = new EventStream<FrameworkEvent>(() =>
      this.#streams.delete(stream),
    );
    this.#streams.add(stream);
    return stream;
  }

  /**
   * Cuts the current recipients off: undelivered events are dropped, open streams end,
   * and with a `message` the old recipients get a last `error` event (a failover by a
   * newer registration). New callbacks and streams start clean.
   */
  detach(message?: string): void {
    const streams = [...this.#streams];
    const callbacks = this.callbacks;
    this.#streams.clear();
    this.#outbox = [];
    this.callbacks = undefined;
    queueMicrotask(() => {
      for (const s of streams) {
        if (message !== undefined) s.push({ type: 'error', message });
        s.end();
      }
      if (message === undefined || callbacks?.error === undefined) return;
      try {
        callbacks.error(message);
      } catch (error) {
        this.onCallbackError(error, this);
      }
    });
  }

  /** Queues a status update (same as `send({ type: 'update', status })`, cheaper). */
  sendStatus(status: TaskStatus): void {
    this.send(status);
  }

  send(event: FrameworkEvent | TaskStatus): void {
    this.#outbox.push(event);
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    const events = this.#outbox;
    this.#outbox = [];
    const cb = this.callbacks;
    for (const item of events) {
      if (!('type' in item)) {
        if (this.#streams.size > 0) {
          const wrapped: FrameworkEvent = { type: 'update', status: item };
          for (const s of this.#streams) s.push(wrapped);
        }
        if (cb?.update === undefined) continue;
        try {
          cb.update(item);
        } catch (error) {
          this.onCallbackError(error, this);
        }
        continue;
      }
      const event = item;
      for (const s of this.#streams) s.push(event);
      if (cb === undefined) continue;
      try {
        switch (event.type) {
          case 'offers':
            cb.offers?.(event.offers);
            break;
          case 'rescind':
            cb.rescind?.(event.offerId, event.reason);
            break;
          case 'inverseOffers':
            cb.inverseOffers?.(event.inverseOffers);
            break;
          case 'update':
            cb.update?.(event.status);
            break;
          case 'agentLost':
            cb.agentLost?.(event.agentId, event.removed);
            break;
          case 'error':
            cb.error?.(event.message);
            break;
        }
      } catch (error) {
        this.onCallbackError(error, this);
      }
    }
  }
}
