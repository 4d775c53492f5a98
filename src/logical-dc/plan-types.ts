import type { MachineSpec, NetworkSpec } from '../core/index.js';
import type { DriftItem } from './refresh.js';
import type { DatacenterSpec } from './spec.js';
import type { IntentKind } from './state/state-store.js';

/** A machine a step acts on. */
export interface MachineRef {
  readonly id: string;
  readonly providerId: string;
}

/** One change a plan makes. `resume` finishes a journaled intent an earlier run left. */
export type PlanStep =
  | {
      readonly kind: 'resume';
      readonly intent: {
        readonly id: string;
        readonly kind: IntentKind;
        readonly provider: string;
        readonly pool?: string;
        readonly count?: number;
        readonly network?: string;
      };
    }
  | {
      readonly kind: 'network.create' | 'network.update';
      readonly provider: string;
      readonly name: string;
      readonly specHash: string;
      readonly spec: NetworkSpec;
    }
  | {
      readonly kind: 'network.delete';
      readonly provider: string;
      readonly name: string;
      readonly reason: string;
    }
  | {
      readonly kind: 'create';
      readonly pool: string;
      readonly provider: string;
      readonly count: number;
      readonly specHash: string;
      readonly spec: MachineSpec;
    }
  | {
      readonly kind: 'replace';
      readonly pool: string;
      readonly provider: string;
      readonly machine: MachineRef;
      readonly specHash: string;
      readonly spec: MachineSpec;
      readonly reason: string;
      readonly createBeforeDestroy: boolean;
    }
  | {
      readonly kind: 'delete';
      readonly pool: string;
      readonly provider: string;
      readonly machine: MachineRef;
      readonly reason: string;
      readonly orphan: boolean;
    }
  | {
      readonly kind: 'start';
      readonly pool: string;
      readonly provider: string;
      readonly machine: MachineRef;
      readonly reason: string;
    };

export type PlanStepKind = PlanStep['kind'];

export interface PlanSummary {
  /** Machines to create (replacements not included). */
  readonly create: number;
  readonly delete: number;
  readonly replace: number;
  readonly start: number;
  readonly networks: number;
  readonly resume: number;
  /** Machines that already match the spec. */
  readonly unchanged: number;
}

/**
 * What apply would do, and the state it was worked out against. Saved as JSON
 * (`kumo plan -o plan.json`), it is applied only while the state has not moved.
 */
export interface Plan {
  readonly format: 'kumo-plan/1';
  readonly dc: string;
  readonly lineage: string;
  /** State serial the plan was made against. */
  readonly serial: number;
  readonly createdAt: string;
  readonly spec: DatacenterSpec;
  readonly prune: boolean;
  /** The default for pools that do not set it, as planned (`--create-before-destroy`). */
  readonly createBeforeDestroy: boolean;
  readonly steps: readonly PlanStep[];
  readonly summary: PlanSummary;
  /** What refresh found differing from state (informational; steps already account for it). */
  readonly drift: readonly DriftItem[];
  /** kumo-tagged machines of this datacenter that state does not know (deleted by `prune`). */
  readonly orphans: readonly {
    readonly id: string;
    readonly providerId: string;
    readonly provider: string;
    readonly pool: string | undefined;
  }[];
}

export interface StepFailure {
  /** The step, as plan output shows it. */
  readonly step: string;
  readonly code: string;
  readonly message: string;
  /** The intent is still journaled: the next apply tries it again with the same key. */
  readonly resumable: boolean;
}

export interface ApplySummary {
  /** Everything planned was done: no failure, no journaled intent left, not interrupted. */
  readonly ok: boolean;
  /** The run's signal was aborted (Ctrl-C in the CLI); the next apply carries on. */
  readonly interrupted: boolean;
  /**
   * Operations the interrupt stopped before or while they ran (a create or delete batch,
   * a network change; a plan step may be several): not counted as failures.
   */
  readonly notRun: number;
  readonly created: number;
  readonly deleted: number;
  readonly replaced: number;
  readonly started: number;
  readonly networks: number;
  readonly resumed: number;
  readonly failed: readonly StepFailure[];
  /** Intents still journaled at the end (failed in a way the next apply retries). */
  readonly pendingIntents: number;
  readonly durationMs: number;
}

export interface ApplyResult {
  readonly plan: Plan;
  readonly summary: ApplySummary;
}
