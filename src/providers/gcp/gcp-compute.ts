/**
 * The slice of Compute Engine the provider uses, over the official clients.
 *
 * NOTE: the clients are imported from the package's v1 entry point: the main entry
 * also loads the v1beta and v1small protos, which triples load time (≈7.5 s → 2.3 s). Every call
 * goes through a rate limiter and comes back as data or a kumo error; pages are fetched
 * one call at a time so each page is paced and counted; operations are awaited with
 * the `wait` long-poll, never a tight loop.
 */
import {
  AcceleratorTypesClient,
  FirewallsClient,
  GlobalOperationsClient,
  ImagesClient,
  InstancesClient,
  MachineTypesClient,
  NetworksClient,
  RegionOperationsClient,
  SubnetworksClient,
  ZoneOperationsClient,
  ZonesClient,
} from '@google-cloud/compute/build/src/v1/index.js';
import type { protos } from '@google-cloud/compute';
import {
  isKumoError,
  ProviderError,
  retry,
  Timeout,
  type Clock,
  type RateLimiter,
  type RetryOptions,
} from '../../core/index.js';
import type { ComputeClientOptions } from './gcp-config.js';
import { operationError, operationFailed, toKumoError } from './gcp-errors.js';

/** Request types of the paged list calls kumo makes. */
export type ListMachineTypesRequest = protos.google.cloud.compute.v1.IListMachineTypesRequest;
export type ListAcceleratorTypesRequest =
  protos.google.cloud.compute.v1.IListAcceleratorTypesRequest;
export type ListZonesRequest = protos.google.cloud.compute.v1.IListZonesRequest;
export type ListFirewallsRequest = protos.google.cloud.compute.v1.IListFirewallsRequest;
export type ListSubnetworksRequest = protos.google.cloud.compute.v1.IListSubnetworksRequest;
export type AggregatedListInstancesRequest =
  protos.google.cloud.compute.v1.IAggregatedListInstancesRequest;
export type GceInstance = protos.google.cloud.compute.v1.IInstance;
export type GceOperation = protos.google.cloud.compute.v1.IOperation;
export type GceMachineType = protos.google.cloud.compute.v1.IMachineType;
export type GceAcceleratorType = protos.google.cloud.compute.v1.IAcceleratorType;
export type GceZone = protos.google.cloud.compute.v1.IZone;
export type GceImage = protos.google.cloud.compute.v1.IImage;
export type GceNetwork = protos.google.cloud.compute.v1.INetwork;
export type GceSubnetwork = protos.google.cloud.compute.v1.ISubnetwork;
export type GceFirewall = protos.google.cloud.compute.v1.IFirewall;
export type GceBulkInsert = protos.google.cloud.compute.v1.IBulkInsertInstanceResource;

/** Where an operation lives, which decides the client that waits on it. */
export type OperationScope = { readonly zone: string } | { readonly region: string } | 'global';

/** Compute caps `maxResults` at 500. */
const PAGE_SIZE = 500;
/** Per-call HTTP timeout; `wait` calls get longer, as the server holds them up to two minutes. */
const CALL_TIMEOUT_MS = 60_000;
const WAIT_CALL_TIMEOUT_MS = 150_000;
/** Guard against a pagination loop that never ends (a server bug), far above any real listing. */
const MAX_PAGES = 10_000;

type PageFn<Req, Item> = (
  request: Req,
  options: { autoPaginate: false; timeout: number },
) => Promise<[Item[], Req | null, unknown]>;
type AggregatedFn<Req, Scoped> = (
  request: Req,
  options: { autoPaginate: false; timeout: number },
) => Promise<[Record<string, Scoped> | null, Req | null, unknown]>;

/** The operation a mutating call returned (the client wraps it as `latestResponse`). */
function operationOf(result: readonly unknown[]): GceOperation {
  const first = result[0] as { latestResponse?: GceOperation } | undefined;
  const op = first?.latestResponse ?? (result[1] as GceOperation | undefined);
  if (op === undefined || op === null)
    throw new ProviderError('Compute Engine returned no operation for a mutating call');
  return op;
}

export function operationDone(op: GceOperation): boolean {
  return String(op.status) === 'DONE';
}

export interface ComputeDeps {
  readonly provider: string;
  readonly clock: Clock;
  /** Paces ordinary calls. */
  readonly limiter: RateLimiter;
  /** Paces operation waits, which the server holds open, so they cannot starve ordinary calls. */
  readonly waitLimiter: RateLimiter;
  /** Told of every call made, by method (for metrics and the bench). */
  readonly onCall?: (method: string) => void;
  /**
   * Retries of a throttled or failed `wait`, done here: a wait only reads, and repeating
   * it is cheaper than repeating the whole provider method from the top.
   */
  readonly waitRetry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'random'>;
  /** Retries of a mutating call that carries a `requestId`, done in place (see {@link ComputeApi.mutateOnce}). */
  readonly requestRetry?: Pick<RetryOptions, 'attempts' | 'baseMs' | 'maxMs' | 'random'>;
}

/** Typed, paced access to the Compute Engine methods kumo uses. */
export class ComputeApi {
  readonly #options: ComputeClientOptions;
  readonly #deps: ComputeDeps;
  readonly #clients = new Map<string, { close(): Promise<void> }>();
  #auth: NonNullable<ComputeClientOptions['auth']> | undefined;
  #inFlight = 0;

  constructor(options: ComputeClientOptions, deps: ComputeDeps) {
    this.#options = options;
    this.#deps = deps;
  }

  /**
   * A client made on first use. NOTE: the first client of a process parses the Compute
   * protos (seconds); later ones reuse them. Each gets its own copy of the options, as the
   * constructors write into them.
   */
  #client<C extends { close(): Promise<void>; auth: NonNullable<ComputeClientOptions['auth']> }>(
    key: string,
    make: (options: ComputeClientOptions) => C,
  ): C {
    let client = this.#clients.get(key) as C | undefined;
    if (client === undefined) {
      // Later clients share the first one's auth, so credentials are looked up and tokens
      // refreshed once per provider, not once per client.
      client = make({
        ...this.#options,
        ...(this.#auth === undefined ? {} : { auth: this.#auth }),
      });
      this.#auth ??= client.auth;
      this.#clients.set(key, client);
    }
    return client;
  }

  get instances(): InstancesClient {
    return this.#client('instances', (o) => new InstancesClient(o));
  }
  get machineTypes(): MachineTypesClient {
    return this.#client('machineTypes', (o) => new MachineTypesClient(o));
  }
  get acceleratorTypes(): AcceleratorTypesClient {
    return this.#client('acceleratorTypes', (o) => new AcceleratorTypesClient(o));
  }
  get zones(): ZonesClient {
    return this.#client('zones', (o) => new ZonesClient(o));
  }
  get images(): ImagesClient {
    return this.#client('images', (o) => new ImagesClient(o));
  }
  get networks(): NetworksClient {
    return this.#client('networks', (o) => new NetworksClient(o));
  }
  get subnetworks(): SubnetworksClient {
    return this.#client('subnetworks', (o) => new SubnetworksClient(o));
  }
  get firewalls(): FirewallsClient {
    return this.#client('firewalls', (o) => new FirewallsClient(o));
  }
  get #zoneOps(): ZoneOperationsClient {
    return this.#client('zoneOperations', (o) => new ZoneOperationsClient(o));
  }
  get #regionOps(): RegionOperationsClient {
    return this.#client('regionOperations', (o) => new RegionOperationsClient(o));
  }
  get #globalOps(): GlobalOperationsClient {
    return this.#client('globalOperations', (o) => new GlobalOperationsClient(o));
  }

  /** The project from the credentials (key file, GOOGLE_CLOUD_PROJECT, gcloud config, metadata server). */
  async detectProject(): Promise<string> {
    try {
      return await this.instances.getProjectId();
    } catch (err) {
      throw toKumoError(err, this.#deps.provider, 'finding the project (set the `project` option)');
    }
  }

  /** One paced call; errors come back as kumo errors with `context`. */
  async call<T>(
    method: string,
    context: string,
    fn: (options: { timeout: number }) => Promise<T>,
    signal?: AbortSignal,
  ): Promise<T> {
    return this.#deps.limiter.run(
      async () => {
        this.#deps.onCall?.(method);
        this.#inFlight += 1;
        try {
          return await fn({ timeout: CALL_TIMEOUT_MS });
        } catch (err) {
          throw toKumoError(err, this.#deps.provider, context);
        } finally {
          this.#inFlight -= 1;
        }
      },
      signal ? { signal } : {},
    );
  }

  /** A mutating call; returns the operation it started. */
  async mutate(
    method: string,
    context: string,
    fn: (options: { timeout: number }) => Promise<readonly unknown[]>,
    signal?: AbortSignal,
  ): Promise<GceOperation> {
    return operationOf(await this.call(method, context, fn, signal));
  }

  /**
   * A mutating call that carries a `requestId`, retried here when it is throttled, fails
   * with a 5xx or loses its connection. Compute Engine answers a repeated requestId with
   * the first request's operation, so a repeat never acts twice, and only this call is
   * repeated rather than the whole provider method around it.
   */
  async mutateOnce(
    method: string,
    context: string,
    fn: (options: { timeout: number }) => Promise<readonly unknown[]>,
    signal?: AbortSignal,
  ): Promise<GceOperation> {
    const options = { attempts: 4, ...this.#deps.requestRetry };
    try {
      return await retry(() => this.mutate(method, context, fn, signal), {
        ...options,
        clock: this.#deps.clock,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      // The tries made here are the whole budget (`retry.attempts`): marked final, the
      // error is not repeated again by the retry wrapper around the provider method,
      // which would multiply the calls (attempts × attempts) on a persistent fault.
      if (isKumoError(err) && err.retryable) {
        err.message = `${err.message} (gave up after ${options.attempts} tries)`;
        Object.defineProperty(err, 'retryable', { value: false });
      }
      throw err;
    }
  }

  /** Every item of a paged `list`, one paced call per page. */
  async listAll<Req extends object, Item>(
    method: string,
    context: string,
    fn: PageFn<Req, Item>,
    request: Req,
    signal?: AbortSignal,
  ): Promise<Item[]> {
    const out: Item[] = [];
    let next: Req | null = { maxResults: PAGE_SIZE, ...request };
    for (let page = 0; next !== null; page++) {
      if (page >= MAX_PAGES)
        throw new ProviderError(`${context}: more than ${MAX_PAGES} pages`, {
          provider: this.#deps.provider,
        });
      const req: Req = next;
      const [items, following] = await this.call(
        method,
        context,
        (o) => fn(req, { ...o, autoPaginate: false }),
        signal,
      );
      out.push(...items);
      next = following ?? null;
    }
    return out;
  }

  /**
   * Every scoped list of a paged `aggregatedList` (`zones/<zone>` → items), one paced
   * call per page. The client offers aggregated listing only as an iterator that
   * fetches pages by itself, so the method is reached through `innerApiCalls`, the
   * same function that iterator uses.
   */
  async aggregatedAll<Req extends object, Scoped>(
    client: { initialize(): Promise<unknown>; innerApiCalls: Record<string, unknown> },
    method: string,
    context: string,
    request: Req,
    signal?: AbortSignal,
  ): Promise<[string, Scoped][]> {
    // Initializing reads the credentials: none found is an AuthError, as in any call.
    try {
      await client.initialize();
    } catch (err) {
      throw toKumoError(err, this.#deps.provider, context);
    }
    const fn = client.innerApiCalls['aggregatedList'] as AggregatedFn<Req, Scoped> | undefined;
    if (fn === undefined)
      throw new ProviderError(`${context}: this client has no aggregatedList`, {
        provider: this.#deps.provider,
      });
    const out: [string, Scoped][] = [];
    let next: Req | null = { maxResults: PAGE_SIZE, ...request };
    for (let page = 0; next !== null; page++) {
      if (page >= MAX_PAGES)
        throw new ProviderError(`${context}: more than ${MAX_PAGES} pages`, {
          provider: this.#deps.provider,
        });
      const req: Req = next;
      const [scoped, following] = await this.call(
        method,
        context,
        (o) => fn(req, { ...o, autoPaginate: false }),
        signal,
      );
      out.push(...Object.entries(scoped ?? {}));
      next = following ?? null;
    }
    return out;
  }

  /**
   * Waits for `op` with the operations `wait` method, which the server holds until the
   * operation is DONE or about two minutes pass. Bounded by `timeoutMs`; if a server
   * answers early without DONE, the next wait is spaced out rather than repeated at once.
   * @throws the operation's own error, typed, when it finished with one.
   */
  async awaitOperation(
    op: GceOperation,
    scope: OperationScope,
    project: string,
    context: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<GceOperation> {
    const { clock } = this.#deps;
    const deadline = clock.now() + timeoutMs;
    let current = op;
    let pause = 250;
    while (!operationDone(current)) {
      signal?.throwIfAborted();
      if (clock.now() >= deadline)
        throw new Timeout(
          `${context}: operation ${current.name ?? '?'} not done after ${timeoutMs} ms; retry with the same idempotency key`,
          {
            provider: this.#deps.provider,
            // NOTE: the caller's time is used up; repeating the call inside the retry
            // wrapper would only spend it again. The caller retries with the same key.
            retryable: false,
            cause: { code: 'OPERATION_TIMEOUT', requestId: current.name ?? undefined },
          },
        );
      const name = current.name ?? '';
      const started = clock.now();
      current = await retry(
        () =>
          this.#deps.waitLimiter.run(
            async () => {
              this.#deps.onCall?.('operations.wait');
              this.#inFlight += 1;
              try {
                const options = { timeout: WAIT_CALL_TIMEOUT_MS };
                if (scope === 'global')
                  return (await this.#globalOps.wait({ project, operation: name }, options))[0];
                if ('zone' in scope)
                  return (
                    await this.#zoneOps.wait(
                      { project, zone: scope.zone, operation: name },
                      options,
                    )
                  )[0];
                return (
                  await this.#regionOps.wait(
                    { project, region: scope.region, operation: name },
                    options,
                  )
                )[0];
              } catch (err) {
                throw toKumoError(
                  err,
                  this.#deps.provider,
                  `${context}: waiting for operation ${name}`,
                );
              } finally {
                this.#inFlight -= 1;
              }
            },
            signal ? { signal } : {},
          ),
        { attempts: 4, ...this.#deps.waitRetry, clock, ...(signal ? { signal } : {}) },
      );
      if (!operationDone(current) && clock.now() - started < 1000) {
        await clock.sleep(Math.min(pause, Math.max(0, deadline - clock.now())), signal);
        pause = Math.min(pause * 2, 10_000);
      }
    }
    if (operationFailed(current)) throw operationError(current, this.#deps.provider, context);
    return current;
  }

  /**
   * HTTP calls under way now, operation waits included (a simulation's clock waits for
   * them before moving; waits the server holds are told apart by the simulation).
   */
  get inFlight(): number {
    return this.#inFlight;
  }

  async close(): Promise<void> {
    const clients = [...this.#clients.values()];
    this.#clients.clear();
    this.#auth = undefined;
    // A client that never connected (no credentials found, say) fails its close with
    // the same error its first call already reported: closing must not replace that
    // error (an AuthError, exit 3) with the library's bare one.
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
}
