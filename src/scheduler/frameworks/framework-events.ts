import type { InverseOffer, Offer, RescindReason } from '../offers/offer.js';
import type { TaskStatus } from '../tasks/task.js';

/** Everything the scheduler tells a framework, as its event stream yields it. */
export type FrameworkEvent =
  | { readonly type: 'offers'; readonly offers: readonly Offer[] }
  | { readonly type: 'rescind'; readonly offerId: string; readonly reason: RescindReason }
  | { readonly type: 'inverseOffers'; readonly inverseOffers: readonly InverseOffer[] }
  | { readonly type: 'update'; readonly status: TaskStatus }
  | { readonly type: 'agentLost'; readonly agentId: string; readonly removed: boolean }
  | { readonly type: 'error'; readonly message: string };

/**
 * The same events as callbacks. Callbacks run after the scheduler call that caused
 * them has returned (on a microtask), so a callback may call back into the scheduler.
 */
export interface FrameworkCallbacks {
  offers?(offers: readonly Offer[]): void;
  rescind?(offerId: string, reason: RescindReason): void;
  inverseOffers?(inverseOffers: readonly InverseOffer[]): void;
  update?(status: TaskStatus): void;
  agentLost?(agentId: string, removed: boolean): void;
  /** The framework was failed over by another registration, or removed. */
  error?(message: string): void;
}
