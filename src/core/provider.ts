import type { Image } from './model/image.js';
import type {
  CreateMachinesRequest,
  CreateMachinesRequestInput,
  Machine,
  MachineFilter,
  SizeChoiceInput,
} from './model/machine.js';
import type { Network, NetworkSpecInput } from './model/network.js';
import type { Size } from './model/size.js';

/** What a provider can do, so callers check before they call (Kysely's `supportsX`). */
export interface ProviderCapabilities {
  /** start/stop keep the machine and its disk. */
  readonly startStop: boolean;
  /** Spot / preemptible machines. */
  readonly spot: boolean;
  /** Many machines in one cloud call (EC2 MinCount/MaxCount, GCE bulkInsert). */
  readonly batchCreate: boolean;
  /** Sizes made to measure (GCP custom machine types). */
  readonly customSizes: boolean;
  /** ensureNetwork creates networks (bare metal only attaches to a configured one). */
  readonly networks: boolean;
  readonly gpus: boolean;
}

export const DEFAULT_CAPABILITIES: ProviderCapabilities = Object.freeze({
  startStop: true,
  spot: false,
  batchCreate: false,
  customSizes: false,
  networks: true,
  gpus: false,
});

export interface CallOptions {
  readonly signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** Wait until every machine is running (or failed). Default true. */
  readonly wait?: boolean;
  /** Longest wait for running. Default 15 minutes. */
  readonly timeoutMs?: number;
}

export interface SizeQuery extends CallOptions {
  readonly zone?: string;
  /** Include spot prices (may cost extra calls). */
  readonly spot?: boolean;
}

/**
 * One cloud, in kumo's neutral terms. Small on purpose: richness lives in the data
 * (sizes with zones and prices) and in helpers in `core` (size selection, retries).
 *
 * Rules every provider keeps — each checked by the shared contract suite in
 * `test/contract`:
 *
 * 1. **Idempotent create.** `createMachines` with an idempotency key already used
 *    returns the machines that key made and never makes more than `count`, even when
 *    the first call timed out after the cloud acted.
 * 2. **Idempotent delete.** Deleting what is gone (or never was) succeeds.
 * 3. **Tagged ownership.** Every resource made carries `kumo-dc`, `kumo-pool`,
 *    `kumo-key` and (machines) `kumo-id`, in the cloud's own syntax.
 * 4. **Typed errors.** Only errors from `core/errors`, with `provider` set and the
 *    cloud's code and request id in `cause`.
 * 5. **Throttling and eventual consistency handled inside**: retries with jittered
 *    backoff, a rate limiter on every API call, "not found right after create" treated
 *    as pending.
 * 6. **Batching** where the cloud has it; waiting polls all pending machines in one call.
 *
 * Machine methods take the cloud's id (`Machine.providerId`).
 */
export interface Provider {
  /** The kind of cloud: `sim`, `aws`, `gcp`, `openstack`, `baremetal`. */
  readonly kind: string;
  /** The name it is registered under (defaults to `kind`); set on every machine as `provider`. */
  readonly name: string;
  readonly region: string;
  readonly capabilities: ProviderCapabilities;

  /** Sizes offered, in neutral units, with prices where known. */
  listSizes(query?: SizeQuery): Promise<Size[]>;

  /**
   * The size a create of `choice` would run on: the named size, or the cheapest that fits
   * `resources` (in `zone`, as spot, of `arch`), by the same rule `createMachines` uses.
   * Checks the request against the catalog, not against capacity or quotas.
   * @throws ValidationError for an unknown size or resources no size fits.
   *
   * @example
   * ```ts
   * const size = await provider.chooseSize({ resources: { cpus: 2, memoryMiB: 4096 } });
   * const image = await provider.resolveImage('ubuntu-22.04', { arch: size.arch });
   * ```
   */
  chooseSize(choice: SizeChoiceInput, options?: CallOptions): Promise<Size>;

  /**
   * Resolves an alias (`ubuntu-22.04`) or a native id to an image.
   * @throws NotFound for an unknown alias or id; ValidationError for a malformed id.
   */
  resolveImage(image: string, options?: CallOptions & { arch?: Size['arch'] }): Promise<Image>;

  /**
   * Makes the network exist as declared; running it twice changes nothing.
   * `labels` carry the ownership tags (`kumo-dc`).
   */
  ensureNetwork(
    spec: NetworkSpecInput,
    options?: CallOptions & { labels?: Record<string, string> },
  ): Promise<Network>;

  /** Deletes a network kumo made (by name), dependants first; succeeds when already gone. */
  deleteNetwork(name: string, options?: CallOptions): Promise<void>;

  /**
   * Creates `count` machines, tagged with the request's ownership tags. Rule 1 applies.
   * @throws ValidationError for a bad spec or a size that cannot fit; NotFound for an
   *   unknown image; InsufficientCapacity; QuotaExceeded; Timeout when waiting ran out
   *   (not retryable: call again with the same key if more time is wanted).
   */
  createMachines(
    request: CreateMachinesRequestInput | CreateMachinesRequest,
    options?: CreateOptions,
  ): Promise<Machine[]>;

  /** Machines kumo can see, filtered; by default every state but `terminated`. */
  listMachines(filter?: MachineFilter, options?: CallOptions): Promise<Machine[]>;

  /** @throws NotFound once the machine is gone. */
  getMachine(providerId: string, options?: CallOptions): Promise<Machine>;

  /** Deletes machines; ids already gone are fine (rule 2). Returns when deletion is under way. */
  deleteMachines(providerIds: readonly string[], options?: CallOptions): Promise<void>;

  /** Starts a stopped machine; a running one is left as is. */
  startMachine(providerId: string, options?: CallOptions): Promise<Machine>;

  /** Stops a running machine; a stopped one is left as is. */
  stopMachine(providerId: string, options?: CallOptions): Promise<Machine>;
}
