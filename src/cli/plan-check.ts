/**
 * What `kumo plan` checks beyond the diff: the size and image of each create or
 * replace, asked of its provider by the rules a create follows (`chooseSize`), so a plan
 * does not approve what apply must fail on. The image is resolved for the architecture
 * of the size the machine would get (an Arm size boots an Arm image); where the image
 * decides the architecture (bare metal), the resources must fit a size of the image's.
 * Capacity and quotas are not checked: they change between plan and apply, and apply
 * handles them.
 */
import {
  isKumoError,
  ValidationError,
  type Image,
  type Issue,
  type Provider,
  type Size,
} from '../core/index.js';
import type { Plan } from '../logical-dc/index.js';

/**
 * Problems with the sizes and images the plan's creates and replacements name, as spec
 * paths (`pools.<pool>.machine.size`, `….image`); empty when all resolve.
 *
 * @example
 * ```ts
 * const issues = await machineProblems(plan, dc.providers);
 * if (issues.length > 0) throw file.error(issues);
 * ```
 */
export async function machineProblems(
  plan: Pick<Plan, 'steps'>,
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
    const at = `pools.${step.pool}.machine`;
    const { spec } = step;
    const choice = {
      ...(spec.size === undefined ? {} : { size: spec.size }),
      ...(spec.resources === undefined ? {} : { resources: spec.resources }),
      ...(spec.zone === undefined ? {} : { zone: spec.zone }),
      ...(spec.arch === undefined ? {} : { arch: spec.arch }),
      spot: spec.spot,
    };
    const sizeField = spec.size === undefined ? 'resources' : 'size';
    let size: Size | undefined;
    try {
      size = await provider.chooseSize(choice);
    } catch (err) {
      issues.push(specProblem(err, at, sizeField));
    }
    let image: Image | undefined;
    try {
      const arch = spec.arch ?? size?.arch;
      image = await provider.resolveImage(spec.image, arch === undefined ? {} : { arch });
    } catch (err) {
      issues.push(specProblem(err, at, 'image'));
    }
    // A cloud whose images name their architecture (bare metal) sizes a spec without
    // one for its image's: the resources must fit a size of that architecture.
    if (
      size !== undefined &&
      image?.arch !== undefined &&
      image.arch !== size.arch &&
      spec.arch === undefined &&
      spec.resources !== undefined
    )
      try {
        await provider.chooseSize({ ...choice, arch: image.arch });
      } catch (err) {
        issues.push(specProblem(err, at, 'resources'));
      }
  }
  return issues;
}

/**
 * An unknown or malformed size or image is the spec's: its issue, at the field the
 * provider named (`spec.zone` → `pools.<pool>.machine.zone`). Anything else (auth,
 * outage) is not the spec's and is thrown.
 */
function specProblem(err: unknown, at: string, field: string): Issue {
  if (!isKumoError(err) || (err.code !== 'NotFound' && err.code !== 'ValidationError')) throw err;
  const named = err instanceof ValidationError ? err.issues[0]?.path : undefined;
  const path = named?.startsWith('spec.') ? named.slice('spec.'.length) : field;
  return { path: `${at}.${path}`, message: err.message };
}
