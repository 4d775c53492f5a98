/**
 * Every burst decision is an event with its reason: what waited, which machines were
 * considered, what they cost and what was chosen. Subscribe with
 * `controller.events.on(listener)` or iterate `for await (const e of controller.events)`;
 * each event is plain JSON (times are clock milliseconds), so it can be logged as is.
 */
import type { StrategyResult, UnplacedReason } from './packing.js';
import { EventHub } from '../events.js';

/** One kind of waiting work, as a decision saw it. */
export interface DemandSummary {
  readonly key: string;
  readonly framework: string;
  readonly role: string;
  readonly count: number;
  readonly resources: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly diskGiB: number;
  };
  readonly waitedS: number;
  readonly priority: number;
}

/** A kind of machine a decision considered. */
export interface CandidateSummary {
  readonly id: string;
  readonly provider: string;
  readonly size: string;
  readonly zone?: string;
  readonly spot: boolean;
  readonly pricePerHour: number;
  readonly cpus: number;
  readonly memoryMiB: number;
  readonly gpus: number;
}

/** Machines a decision chose: `count` of one candidate. */
export interface ChosenSummary extends CandidateSummary {
  readonly target: string;
  readonly count: number;
  /** Waiting tasks they were bought for. */
  readonly tasks: number;
}

/** A burst machine as events show it. */
export interface BurstMachineView {
  readonly id: string;
  readonly target: string;
  readonly provider: string;
  readonly size: string;
  readonly zone?: string;
  readonly spot: boolean;
  readonly pricePerHour: number;
}

export type BurstHoldReason = 'cooldown' | UnplacedReason;

export type BurstEvent =
  | {
      readonly type: 'burst.scale-up';
      readonly at: number;
      readonly reason: string;
      readonly demand: readonly DemandSummary[];
      /** How many candidates were considered; `candidates` lists the cheapest of them. */
      readonly considered: number;
      readonly candidates: readonly CandidateSummary[];
      readonly chosen: readonly ChosenSummary[];
      /** What the chosen machines add, USD per hour. */
      readonly pricePerHour: number;
      /** The fractional lower bound for the same tasks. */
      readonly lowerBoundPerHour: number;
      readonly strategy: string;
      readonly strategies: readonly StrategyResult[];
      readonly budget: { readonly spendPerHour: number; readonly capPerHour: number };
      readonly unplaced: readonly { key: string; count: number; reason: UnplacedReason }[];
    }
  | {
      readonly type: 'burst.held';
      readonly at: number;
      readonly reason: BurstHoldReason;
      readonly message: string;
      readonly demand: readonly DemandSummary[];
    }
  | { readonly type: 'burst.provisioned'; readonly at: number; readonly machine: BurstMachineView }
  | {
      readonly type: 'burst.provision-failed';
      readonly at: number;
      readonly candidate: string;
      readonly provider: string;
      readonly error: { readonly code: string; readonly message: string };
      /** What happens next: the next zone or provider is tried, or the decision waits. */
      readonly fallback: string;
    }
  | {
      readonly type: 'burst.running';
      readonly at: number;
      readonly id: string;
      readonly provider: string;
      readonly bootS: number;
    }
  | {
      readonly type: 'burst.drain';
      readonly at: number;
      readonly id: string;
      readonly provider: string;
      readonly reason: string;
      /** Tasks on it when the drain began. */
      readonly tasks: number;
      /** Tasks still running this long after the drain began are killed; null: never (a cordon). */
      readonly deadlineS: number | null;
    }
  | {
      readonly type: 'burst.reactivated';
      readonly at: number;
      readonly id: string;
      readonly provider: string;
      readonly reason: string;
    }
  | {
      readonly type: 'burst.released';
      readonly at: number;
      readonly id: string;
      readonly provider: string;
      readonly reason: string;
      readonly lifetimeS: number;
      readonly costUsd: number;
    }
  | {
      readonly type: 'burst.lost';
      readonly at: number;
      readonly id: string;
      readonly provider: string;
      readonly reason: string;
    }
  | {
      readonly type: 'burst.consolidation';
      readonly at: number;
      readonly message: string;
      /** Machines whose tasks fit on the others. */
      readonly machines: readonly string[];
      readonly tasks: number;
      readonly currentPerHour: number;
      /** What the same tasks would cost repacked from scratch. */
      readonly repackedPerHour: number;
      readonly savingPerHour: number;
      readonly acted: boolean;
    }
  | { readonly type: 'burst.warning'; readonly at: number; readonly message: string }
  | {
      /**
       * Written by the file burst log when it rotates, never by the controller: what the
       * older files said (machines held, totals), so a reader of the newer files alone
       * still knows them.
       */
      readonly type: 'burst.snapshot';
      readonly at: number;
      readonly machines: readonly BurstMachineView[];
      readonly launched: number;
      readonly released: number;
      readonly costUsd: number;
    };

export type BurstEventType = BurstEvent['type'];
export type BurstListener = (event: BurstEvent) => void;

/**
 * The burst controller's event hub: listeners run synchronously, in order; one that
 * throws does not stop the others.
 *
 * @example
 * ```ts
 * const off = controller.events.on((e) => { if (e.type === 'burst.scale-up') console.log(e.reason); });
 * off();
 * ```
 */
export class BurstEventHub extends EventHub<BurstEvent> {}
