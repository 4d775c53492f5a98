import { describeMachineSpec } from './plan.js';
import type { Plan, PlanStep } from './plan-types.js';

/** One step as a `+ / - / ~` line. */
export function formatStep(step: PlanStep): string {
  switch (step.kind) {
    case 'resume': {
      const i = step.intent;
      const what =
        i.kind === 'create'
          ? `create of ${i.count ?? 0} machine(s) in pool ${i.pool ?? '?'}`
          : i.kind === 'delete'
            ? `delete of ${i.count ?? 'some'} machine(s)`
            : `${i.kind} ${i.network ?? ''}`;
      return `> resume ${what} on ${i.provider} (journaled by an interrupted apply)`;
    }
    case 'network.create':
      return `+ network ${step.name} on ${step.provider} (${step.spec.cidr}${step.spec.subnets.length ? `, ${step.spec.subnets.length} subnet(s)` : ''})`;
    case 'network.update':
      return `~ network ${step.name} on ${step.provider} (update to ${step.spec.cidr})`;
    case 'network.delete':
      return `- network ${step.name} on ${step.provider} (${step.reason})`;
    case 'create':
      return `+ ${step.pool}: ${step.count} machine(s) on ${step.provider} (${describeMachineSpec(step.spec)})`;
    case 'replace':
      return `~ ${step.machine.id} (${step.pool} on ${step.provider}): replace, ${step.reason}${step.createBeforeDestroy ? ' [create before destroy]' : ''}`;
    case 'delete':
      return `- ${step.machine.id} (${step.pool} on ${step.provider}): ${step.reason}`;
    case 'start':
      return `~ ${step.machine.id} (${step.pool} on ${step.provider}): start, ${step.reason}`;
  }
}

/**
 * The plan as people read it: one line per step, drift and orphans, then a summary.
 *
 * @example
 * ```ts
 * console.log(formatPlan(await dc.plan(spec)));
 * ```
 */
export function formatPlan(plan: Plan): string {
  const lines: string[] = [];
  for (const d of plan.drift)
    lines.push(`! drift: ${d.id} (${d.pool} on ${d.provider}) ${d.kind}: ${d.detail}`);
  if (!plan.prune)
    for (const o of plan.orphans)
      lines.push(
        `! orphan: ${o.id} on ${o.provider} (pool ${o.pool ?? '?'}) is tagged for this datacenter but not in state; kumo adopt, or kumo apply --prune`,
      );
  for (const s of plan.steps) lines.push(formatStep(s));
  const s = plan.summary;
  if (plan.steps.length === 0) lines.push(`No changes. ${s.unchanged} machine(s) match the spec.`);
  else
    lines.push(
      `Plan: ${s.create} to create, ${s.replace} to replace, ${s.delete} to delete, ${s.start} to start, ${s.networks} network change(s)${s.resume ? `, ${s.resume} interrupted intent(s) to resume` : ''}; ${s.unchanged} unchanged.`,
    );
  return lines.join('\n');
}
