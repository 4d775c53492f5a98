import type { Constraint } from './jobs/constraints.js';

/**
 * Work waiting for resources: the signal burst policies act on. One item per kind of
 * task (a job, say) with how many are waiting and for how long.
 */
export interface DemandItem {
  readonly frameworkId: string;
  readonly framework: string;
  readonly role: string;
  readonly key: string | undefined;
  /** One task's needs; `ports` is a count. */
  readonly resources: {
    readonly cpus: number;
    readonly memoryMiB: number;
    readonly gpus: number;
    readonly diskGiB: number;
    readonly ports: number;
  };
  readonly count: number;
  readonly constraints: readonly Constraint[];
  readonly priority: number;
  /** When the oldest of these started waiting (scheduler clock ms). */
  readonly since: number;
  /** now − since. */
  readonly waitedMs: number;
}
