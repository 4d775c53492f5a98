/**
 * How kumo launches a request's machines on EC2 (the heart of `createMachines`).
 *
 * - The request's slots 0…count-1 are cut into chunks, each one RunInstances call
 *   with MinCount = MaxCount = its size and its own ClientToken
 *   (`kumo-<hash of dc/key>-<chunk>`, 52 ASCII characters at most), spread over the
 *   zones the size is offered in. The layout depends only on the request, so a retry
 *   re-sends the same tokens and EC2 answers with the same reservations.
 * - RunInstances returns a chunk's instances in no particular order, but each carries
 *   its AmiLaunchIndex (0…n-1 within the launch): slot = chunk's first slot + launch
 *   index, so every instance's kumo name is fixed by the request. The launch tags
 *   (ownership tags plus `kumo-launch` = `<prefix>/<first slot>`) record enough to
 *   re-derive the name; then one CreateTags per instance writes its own `kumo-id` and
 *   `Name` — EC2 cannot give different tag values to instances of one launch.
 * - Before launching, one DescribeInstances by the request's tags finds what an
 *   earlier try made: complete chunks are skipped, untagged instances are tagged.
 */
import {
  CreateTagsCommand,
  DescribeInstancesCommand,
  RunInstancesCommand,
  type Instance,
  type Reservation,
  type RunInstancesCommandInput,
} from '@aws-sdk/client-ec2';
import { createHash } from 'node:crypto';
import {
  fromAwsTags,
  isKumoError,
  machineName,
  retry,
  shortHash,
  TAG_DC,
  TAG_ID,
  TAG_KEY,
  toAwsTags,
  type Clock,
  type Labels,
  type Random,
} from '../../core/index.js';
import type { Ec2 } from './aws-client.js';
import { awsCode } from './aws-errors.js';
import { launchTag, machineIdOf, TAG_LAUNCH, TAG_NAME } from './aws-mapper.js';

/** Where one chunk may launch: a zone, a subnet (which implies its zone), security groups. */
export interface Placement {
  readonly zone?: string | undefined;
  readonly subnetId?: string | undefined;
  readonly securityGroupIds?: readonly string[] | undefined;
}

export interface Chunk {
  readonly index: number;
  readonly first: number;
  readonly count: number;
}

/**
 * Cuts `count` slots into contiguous chunks of at most `chunkSize`, and at least one
 * per zone when there are several zones and enough machines (so a pool spans zones).
 * Depends only on its arguments: the same request always gets the same chunks.
 */
export function planChunks(count: number, chunkSize: number, zones: number): Chunk[] {
  const n = Math.max(Math.ceil(count / chunkSize), Math.min(count, Math.max(1, zones)));
  const base = Math.floor(count / n);
  const extra = count % n;
  const out: Chunk[] = [];
  let first = 0;
  for (let index = 0; index < n; index++) {
    const size = base + (index < extra ? 1 : 0);
    out.push({ index, first, count: size });
    first += size;
  }
  return out;
}

/** The ClientToken of one chunk: ≤ 64 ASCII characters, unique per datacenter, key and chunk. */
export function clientToken(dc: string, key: string, chunk: number): string {
  return `kumo-${shortHash(`${dc}/${key}`, 40)}-${chunk}`;
}

/** The zone order a chunk tries: starting at a zone chosen by the key, so pools spread evenly. */
export function zoneOrder(
  placements: readonly Placement[],
  key: string,
  chunk: number,
): Placement[] {
  const n = placements.length;
  const start = parseInt(createHash('sha256').update(key).digest('hex').slice(0, 8), 16) % n;
  return Array.from({ length: n }, (_, k) => placements[(start + chunk + k) % n]!);
}

export interface LaunchPlan {
  readonly dc: string;
  readonly key: string;
  readonly prefix: string;
  readonly count: number;
  readonly chunkSize: number;
  readonly placements: readonly Placement[];
  readonly capacityFallback: 'fail' | 'next-zone';
  /** RunInstances parameters shared by every chunk (image, type, key, user data, …). */
  readonly base: Omit<
    RunInstancesCommandInput,
    | 'MinCount'
    | 'MaxCount'
    | 'ClientToken'
    | 'TagSpecifications'
    | 'SubnetId'
    | 'SecurityGroupIds'
    | 'Placement'
  >;
  /** Tags on every instance and volume of the request (labels and ownership). */
  readonly tags: Labels;
  readonly signal?: AbortSignal | undefined;
}

export interface Launched {
  /** Every instance of the request by slot. */
  readonly bySlot: ReadonlyMap<number, Instance>;
  /** The first chunk that failed to launch, when one did (the others were launched and tagged). */
  readonly failure?: unknown;
}

/** Most values kumo puts in one EC2 filter. */
const MAX_FILTER_VALUES = 100;

interface KeyLookup {
  readonly dc: string;
  readonly key: string;
  readonly resolve: (instances: Instance[]) => void;
  readonly reject: (err: unknown) => void;
}

export class Launcher {
  /** The zone each chunk token last launched in, so a retry goes back there first. */
  readonly #chunkZones = new Map<string, Placement>();
  readonly #lookups: KeyLookup[] = [];
  #flushing = false;

  constructor(
    readonly ec2: Ec2,
    readonly clock: Clock,
    readonly random: Random,
  ) {}

  /**
   * Instances a request made, found by its ownership tags (terminated ones included).
   * Lookups that arrive together share one DescribeInstances: many small concurrent
   * requests cost one call, not one each.
   */
  describeByKey(dc: string, key: string): Promise<Instance[]> {
    return new Promise((resolve, reject) => {
      this.#lookups.push({ dc, key, resolve, reject });
      if (!this.#flushing) {
        this.#flushing = true;
        queueMicrotask(() => void this.#flush());
      }
    });
  }

  async #flush(): Promise<void> {
    try {
      while (this.#lookups.length > 0) {
        const batch = this.#lookups.splice(0, MAX_FILTER_VALUES);
        try {
          const found = await this.#describeKeys(
            [...new Set(batch.map((b) => b.dc))],
            [...new Set(batch.map((b) => b.key))],
          );
          for (const b of batch)
            b.resolve(
              found.filter((i) => {
                const t = fromAwsTags(i.Tags);
                return t[TAG_DC] === b.dc && t[TAG_KEY] === b.key;
              }),
            );
        } catch (err) {
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #describeKeys(dcs: string[], keys: string[]): Promise<Instance[]> {
    const out: Instance[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.call('DescribeInstances', (c) =>
        c.send(
          new DescribeInstancesCommand({
            Filters: [
              { Name: `tag:${TAG_KEY}`, Values: keys },
              { Name: `tag:${TAG_DC}`, Values: dcs },
            ],
            MaxResults: 1000,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        ),
      );
      for (const r of page.Reservations ?? []) out.push(...(r.Instances ?? []));
      token = page.NextToken || undefined;
    } while (token !== undefined);
    return out;
  }

  async launch(plan: LaunchPlan): Promise<Launched> {
    const chunks = planChunks(plan.count, plan.chunkSize, plan.placements.length);
    const bySlot = new Map<number, Instance>();
    const slotOf = (i: Instance): number | undefined => {
      const m = /-(\d+)$/.exec(machineIdOf(i));
      return m === null ? undefined : Number(m[1]);
    };
    for (const i of await this.describeByKey(plan.dc, plan.key)) {
      const slot = slotOf(i);
      if (
        slot === undefined ||
        slot >= plan.count ||
        machineIdOf(i) !== machineName(plan.prefix, slot)
      )
        continue;
      const seen = bySlot.get(slot);
      // A live instance wins over a terminated one of the same name.
      if (seen === undefined || seen.State?.Name === 'terminated') bySlot.set(slot, i);
    }
    const todo = chunks.filter((c) =>
      Array.from({ length: c.count }, (_, k) => c.first + k).some((slot) => !bySlot.has(slot)),
    );
    const found = new Map(bySlot);
    // Each chunk is tagged as soon as it is launched, so tagging (one call per
    // instance) overlaps the launches still waiting for RunInstances tokens.
    const results = await Promise.allSettled([
      this.#tagNames(plan, found),
      ...todo.map(async (c) => {
        const reservation = await this.#launchChunk(plan, c);
        const mine = new Map<number, Instance>();
        for (const i of reservation.Instances ?? [])
          if (i.AmiLaunchIndex !== undefined) mine.set(c.first + i.AmiLaunchIndex, i);
        for (const [slot, i] of mine) bySlot.set(slot, i);
        await this.#tagNames(plan, mine);
      }),
    ]);
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
      ?.reason as unknown;
    return failure === undefined ? { bySlot } : { bySlot, failure };
  }

  async #launchChunk(plan: LaunchPlan, chunk: Chunk): Promise<Reservation> {
    const token = clientToken(plan.dc, plan.key, chunk.index);
    const order = zoneOrder(plan.placements, plan.key, chunk.index);
    const remembered = this.#chunkZones.get(token);
    if (remembered !== undefined) order.unshift(remembered);
    const tried = new Set<Placement>();
    let lastError: unknown;
    for (const p of order) {
      if (tried.has(p)) continue;
      tried.add(p);
      const tags = { ...plan.tags, [TAG_LAUNCH]: launchTag(plan.prefix, chunk.first) };
      const input: RunInstancesCommandInput = {
        ...plan.base,
        MinCount: chunk.count,
        MaxCount: chunk.count,
        ClientToken: token,
        ...(p.subnetId === undefined ? {} : { SubnetId: p.subnetId }),
        ...(p.securityGroupIds === undefined || p.securityGroupIds.length === 0
          ? {}
          : { SecurityGroupIds: [...p.securityGroupIds] }),
        ...(p.subnetId === undefined && p.zone !== undefined
          ? { Placement: { AvailabilityZone: p.zone } }
          : {}),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: toAwsTags(tags) },
          { ResourceType: 'volume', Tags: toAwsTags(plan.tags) },
        ],
      };
      try {
        const reservation = await this.ec2.call(
          'RunInstances',
          (c, s) => c.send(new RunInstancesCommand(input), { abortSignal: s }),
          plan.signal,
        );
        this.#chunkZones.set(token, p);
        return reservation;
      } catch (err) {
        lastError = err;
        const capacity = isKumoError(err) && err.code === 'InsufficientCapacity';
        if (!capacity || plan.capacityFallback !== 'next-zone') throw err;
      }
    }
    throw lastError;
  }

  /** One CreateTags per instance still without its `kumo-id`: EC2 tags each instance of a launch alike. */
  async #tagNames(plan: LaunchPlan, bySlot: ReadonlyMap<number, Instance>): Promise<void> {
    const untagged = [...bySlot].filter(
      ([, i]) => fromAwsTags(i.Tags)[TAG_ID] === undefined && i.State?.Name !== 'terminated',
    );
    await Promise.all(
      untagged.map(async ([slot, instance]) => {
        const id = machineName(plan.prefix, slot);
        const instanceId = instance.InstanceId!;
        // NOTE: a just-launched instance can be unknown to CreateTags for a few seconds
        // (eventual consistency): NotFound then means "not yet", so wait and repeat.
        await retry(
          () =>
            this.ec2.call(
              'CreateTags',
              (c, s) =>
                c.send(
                  new CreateTagsCommand({
                    Resources: [instanceId],
                    Tags: toAwsTags({ [TAG_ID]: id, [TAG_NAME]: id }),
                  }),
                  { abortSignal: s },
                ),
              plan.signal,
            ),
          {
            attempts: 8,
            baseMs: 1000,
            maxMs: 8000,
            clock: this.clock,
            random: this.random,
            retryable: (err) => awsCode(err) === 'InvalidInstanceID.NotFound',
            ...(plan.signal === undefined ? {} : { signal: plan.signal }),
          },
        );
        instance.Tags = [
          ...(instance.Tags ?? []).filter((t) => t.Key !== TAG_ID && t.Key !== TAG_NAME),
          { Key: TAG_ID, Value: id },
          { Key: TAG_NAME, Value: id },
        ];
      }),
    );
  }
}
