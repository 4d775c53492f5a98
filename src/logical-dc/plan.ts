/**
 * Plan: the desired datacenter against the observed one, as steps. Pure: the same
 * inputs give the same plan, so it is unit-tested without any provider.
 */
import type { Machine, MachineSpec, Provider } from '../core/index.js';
import { isAdHocPool } from './ad-hoc-pool.js';
import { TAG_SPEC } from './apply.js';
import { hashOf, stableStringify } from './hashing.js';
import type { Plan, PlanStep, PlanSummary } from './plan-types.js';
import { orphanPool, type DriftItem } from './refresh.js';
import { resolveNetworks, resolvePools, type DatacenterSpec, type ResolvedPool } from './spec.js';
import type { MachineRecord, StateSnapshot } from './state/state-store.js';

export interface PlanInput {
  readonly dc: string;
  /** State after refresh. */
  readonly snapshot: StateSnapshot;
  readonly spec: DatacenterSpec;
  readonly providers: ReadonlyMap<string, Pick<Provider, 'capabilities'>>;
  readonly drift: readonly DriftItem[];
  readonly orphans: readonly Machine[];
  /** Delete orphans. */
  readonly prune?: boolean;
  /** Default for pools that do not say. */
  readonly createBeforeDestroy?: boolean;
  /** The plan destroys the datacenter: steps say so rather than "no longer declared". */
  readonly destroy?: boolean;
  readonly now?: Date;
}

/** The hash that identifies a pool's machine spec: equal hash, nothing to replace. */
export function poolSpecHash(pool: Pick<ResolvedPool, 'provider' | 'machine'>): string {
  return hashOf({ provider: pool.provider, machine: pool.machine });
}

/** The fields that differ between two machine specs, as `field a → b`. */
export function describeSpecChange(before: unknown, after: unknown): string {
  const flat = (v: unknown, prefix: string, out: Map<string, string>): Map<string, string> => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v))
      for (const [k, x] of Object.entries(v)) flat(x, prefix ? `${prefix}.${k}` : k, out);
    else out.set(prefix, stableStringify(v));
    return out;
  };
  const a = flat(before, '', new Map());
  const b = flat(after, '', new Map());
  const keys = [...new Set([...a.keys(), ...b.keys()])].sort();
  const diffs = keys
    .filter((k) => a.get(k) !== b.get(k))
    .map((k) => `${k} ${a.get(k) ?? '(none)'} → ${b.get(k) ?? '(none)'}`);
  return diffs.length > 0 ? `spec changed: ${diffs.join(', ')}` : 'spec changed';
}

/** Newest first, so scaling down removes the most recent machines. */
function newestFirst(a: MachineRecord, b: MachineRecord): number {
  return b.machine.createdAt.localeCompare(a.machine.createdAt) || b.id.localeCompare(a.id);
}

/**
 * Works out the steps that take `snapshot` to `spec`.
 *
 * Per pool: machines of the current spec that run (or are pending) are kept; stopped
 * ones are started; failed, lost, changed-outside-kumo or old-spec ones are replaced;
 * the count is then met by creating or deleting (extra machines go unhealthy first,
 * then newest first). Pools no longer declared lose their machines; networks no longer
 * declared are deleted once their machines are gone.
 */
export function computePlan(input: PlanInput): Plan {
  const { snapshot, spec } = input;
  const steps: PlanStep[] = [];
  let unchanged = 0;
  const changedIds = new Map(
    input.drift.filter((d) => d.kind === 'changed').map((d) => [d.id, d.detail]),
  );

  for (const intent of snapshot.intents)
    steps.push({
      kind: 'resume',
      intent: {
        id: intent.id,
        kind: intent.kind,
        provider: intent.provider,
        ...(intent.pool === undefined ? {} : { pool: intent.pool }),
        ...(intent.count === undefined ? {} : { count: intent.count }),
        ...(intent.network === undefined ? {} : { network: intent.network }),
      },
    });
  const resumingNetworks = new Set(
    snapshot.intents
      .filter((i) => i.network !== undefined)
      .map((i) => `${i.provider}/${i.network}`),
  );

  // Networks first: machines need them.
  const desiredNetworks = resolveNetworks(spec);
  const wantedNetworks = new Set(desiredNetworks.map((n) => `${n.provider}/${n.spec.name}`));
  for (const n of desiredNetworks) {
    const specHash = hashOf(n.spec);
    const current = snapshot.networks.find(
      (r) => r.provider === n.provider && r.name === n.spec.name,
    );
    if (current === undefined || current.status === 'deleting')
      steps.push({
        kind: 'network.create',
        provider: n.provider,
        name: n.spec.name,
        specHash,
        spec: n.spec,
      });
    else if (current.specHash !== specHash)
      steps.push({
        kind: 'network.update',
        provider: n.provider,
        name: n.spec.name,
        specHash,
        spec: n.spec,
      });
  }

  const pools = resolvePools(spec);
  const declared = new Set(pools.map((p) => p.name));
  const pendingByPool = new Map<string, number>();
  for (const i of snapshot.intents)
    if (i.kind === 'create' && i.pool !== undefined)
      pendingByPool.set(i.pool, (pendingByPool.get(i.pool) ?? 0) + (i.count ?? 0));

  for (const pool of pools) {
    const specHash = poolSpecHash(pool);
    const records = snapshot.machines.filter(
      (r) => r.pool === pool.name && r.status !== 'deleting',
    );
    const healthy: MachineRecord[] = [];
    const stopped: MachineRecord[] = [];
    const replace: { record: MachineRecord; reason: string }[] = [];
    for (const r of records) {
      const changed = changedIds.get(r.id);
      if (r.status === 'lost') replace.push({ record: r, reason: 'gone from the provider' });
      else if (r.machine.state === 'error')
        replace.push({ record: r, reason: `failed: ${r.machine.error ?? 'in error'}` });
      else if (r.provider !== pool.provider)
        replace.push({ record: r, reason: `provider ${r.provider} → ${pool.provider}` });
      else if (r.specHash !== specHash) {
        const before = snapshot.specs[r.specHash];
        replace.push({
          record: r,
          // An adopted machine made without kumo's spec tag: what it was made from is not known.
          reason:
            before === undefined
              ? `spec unknown (no ${TAG_SPEC} tag matching the pool's spec)`
              : describeSpecChange(before, pool.machine),
        });
      } else if (changed !== undefined)
        replace.push({ record: r, reason: `changed outside kumo: ${changed}` });
      else if (r.machine.state === 'stopped' || r.machine.state === 'stopping') stopped.push(r);
      else healthy.push(r);
    }
    const resuming = pendingByPool.get(pool.name) ?? 0;
    const current = healthy.length + stopped.length + replace.length + resuming;
    const desired = pool.count ?? Math.min(pool.max, Math.max(pool.min, current));
    let excess = current - desired;
    const cbd = pool.createBeforeDestroy ?? input.createBeforeDestroy ?? false;
    const remove = (r: MachineRecord, reason: string): void => {
      steps.push({
        kind: 'delete',
        pool: pool.name,
        provider: r.provider,
        machine: { id: r.id, providerId: r.providerId },
        reason,
        orphan: false,
      });
    };
    // Extra machines go in order: those needing replacement, stopped ones, then the newest healthy.
    replace.sort((a, b) => newestFirst(a.record, b.record));
    while (excess > 0 && replace.length > 0) {
      const r = replace.shift()!;
      remove(r.record, `scale down to ${desired} (${r.reason})`);
      excess--;
    }
    stopped.sort(newestFirst);
    while (excess > 0 && stopped.length > 0) {
      remove(stopped.shift()!, `scale down to ${desired}`);
      excess--;
    }
    healthy.sort(newestFirst);
    while (excess > 0 && healthy.length > 0) {
      remove(healthy.shift()!, `scale down to ${desired}`);
      excess--;
    }
    const canStart = input.providers.get(pool.provider)?.capabilities.startStop ?? false;
    for (const r of stopped) {
      if (canStart)
        steps.push({
          kind: 'start',
          pool: pool.name,
          provider: r.provider,
          machine: { id: r.id, providerId: r.providerId },
          reason: `${r.machine.state}, not by kumo`,
        });
      else
        replace.push({
          record: r,
          reason: `${r.machine.state} and ${pool.provider} cannot start machines`,
        });
    }
    for (const { record, reason } of replace)
      steps.push({
        kind: 'replace',
        pool: pool.name,
        provider: pool.provider,
        machine: { id: record.id, providerId: record.providerId },
        specHash,
        spec: pool.machine,
        reason,
        createBeforeDestroy: cbd,
      });
    unchanged += healthy.length;
    if (excess < 0)
      steps.push({
        kind: 'create',
        pool: pool.name,
        provider: pool.provider,
        count: -excess,
        specHash,
        spec: pool.machine,
      });
  }

  // Pools no longer declared. Ad-hoc machines (made one by one through an API) are not the spec's: only pruning takes them.
  for (const r of snapshot.machines)
    if (
      !declared.has(r.pool) &&
      r.status !== 'deleting' &&
      (input.prune === true || !isAdHocPool(r.pool))
    )
      steps.push({
        kind: 'delete',
        pool: r.pool,
        provider: r.provider,
        machine: { id: r.id, providerId: r.providerId },
        reason: input.destroy === true ? 'destroy' : `pool ${r.pool} is no longer declared`,
        orphan: false,
      });

  if (input.prune === true)
    for (const m of input.orphans)
      steps.push({
        kind: 'delete',
        pool: orphanPool(m) ?? '(none)',
        provider: m.provider,
        machine: { id: m.id, providerId: m.providerId },
        reason: 'orphan: kumo-tagged for this datacenter, not in state',
        orphan: true,
      });

  // Networks no longer declared go last, after the machines in them.
  for (const r of snapshot.networks)
    if (
      !wantedNetworks.has(`${r.provider}/${r.name}`) &&
      !resumingNetworks.has(`${r.provider}/${r.name}`)
    )
      steps.push({
        kind: 'network.delete',
        provider: r.provider,
        name: r.name,
        reason: input.destroy === true ? 'destroy' : 'no longer declared',
      });

  return {
    format: 'kumo-plan/1',
    dc: input.dc,
    lineage: snapshot.lineage,
    serial: snapshot.serial,
    createdAt: (input.now ?? new Date()).toISOString(),
    spec,
    prune: input.prune === true,
    createBeforeDestroy: input.createBeforeDestroy === true,
    steps,
    summary: summarize(steps, unchanged),
    drift: input.drift,
    orphans: input.orphans.map((m) => ({
      id: m.id,
      providerId: m.providerId,
      provider: m.provider,
      pool: orphanPool(m),
    })),
  };
}

function summarize(steps: readonly PlanStep[], unchanged: number): PlanSummary {
  let create = 0;
  let del = 0;
  let replace = 0;
  let start = 0;
  let networks = 0;
  let resume = 0;
  for (const s of steps) {
    if (s.kind === 'create') create += s.count;
    else if (s.kind === 'delete') del++;
    else if (s.kind === 'replace') replace++;
    else if (s.kind === 'start') start++;
    else if (s.kind === 'resume') resume++;
    else networks++;
  }
  return { create, delete: del, replace, start, networks, resume, unchanged };
}

/** True when the plan changes nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return plan.steps.length === 0;
}

/** A machine spec in one line: `2 vCPU, 4096 MiB, ubuntu-22.04` or `size m5.large, ubuntu-22.04`. */
export function describeMachineSpec(spec: MachineSpec): string {
  const what =
    spec.size !== undefined
      ? `size ${spec.size}`
      : spec.resources !== undefined
        ? `${spec.resources.cpus} vCPU, ${spec.resources.memoryMiB} MiB${spec.resources.gpus ? `, ${spec.resources.gpus} GPU` : ''}`
        : '';
  return [
    what,
    spec.image,
    spec.spot ? 'spot' : undefined,
    spec.zone,
    spec.network ? `network ${spec.network}` : undefined,
  ]
    .filter(Boolean)
    .join(', ');
}
