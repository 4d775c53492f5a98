/**
 * What `kumo plan` checks beyond the diff: each image a create or replace would boot,
 * resolved by its provider, so a plan does not approve what apply must fail on. It
 * resolves for the spec's `arch` (x86_64 when unset); a create resolves for its size's
 * architecture, so an image of the wrong architecture for an Arm size without `arch`
 * is still only found at apply. (Sizes are left to the providers at apply: each has rules of
 * its own — OpenStack flavor ids, GCP custom machine types — that a neutral check
 * would get wrong.)
 */
import { isKumoError, type Issue, type Provider } from '../core/index.js';
import type { Plan } from '../logical-dc/index.js';

/**
 * Problems with the images the plan's creates and replacements name, as spec paths
 * (`pools.<pool>.machine.image`); empty when all resolve.
 *
 * @example
 * ```ts
 * const issues = await imageProblems(plan, dc.providers);
 * if (issues.length > 0) throw file.error(issues);
 * ```
 */
export async function imageProblems(
  plan: Plan,
  providers: ReadonlyMap<string, Provider>,
): Promise<Issue[]> {
  const issues: Issue[] = [];
  const seen = new Set<string>();
  for (const step of plan.steps) {
    if (step.kind !== 'create' && step.kind !== 'replace') continue;
    if (seen.has(step.pool)) continue;
    seen.add(step.pool);
    const provider = providers.get(step.provider);
    if (provider === undefined) continue;
    try {
      await provider.resolveImage(
        step.spec.image,
        step.spec.arch === undefined ? {} : { arch: step.spec.arch },
      );
    } catch (err) {
      // An unknown or malformed image is the spec's; anything else (auth, outage) is not.
      if (!isKumoError(err) || (err.code !== 'NotFound' && err.code !== 'ValidationError'))
        throw err;
      issues.push({ path: `pools.${step.pool}.machine.image`, message: err.message });
    }
  }
  return issues;
}
