/**
 * Ad-hoc pools: machines made one at a time through an API (the OpenStack gateway's
 * `POST /servers`) rather than declared in a spec. They live in state like pool
 * machines, under a pool name a spec cannot declare (spec pool names have no "."), so
 * `plan` knows they are not the spec's to remove: only pruning (`destroy`) takes them.
 *
 * Kept apart from `ad-hoc-machines.ts` so `plan.ts` can import it without a cycle.
 */
import { ValidationError } from '../core/index.js';

/** Prefix of every ad-hoc pool name: `adhoc.<group>`. */
export const AD_HOC_POOL_PREFIX = 'adhoc.';

const GROUP = /^[a-z0-9][a-z0-9-]{0,40}$/;

/**
 * The pool name of ad-hoc machines of `group` (a gateway project, a tool's name).
 *
 * @example
 * ```ts
 * adHocPool('demo'); // 'adhoc.demo'
 * ```
 * @throws ValidationError when `group` is not 1–41 lowercase letters, digits and "-".
 */
export function adHocPool(group: string): string {
  if (!GROUP.test(group))
    throw new ValidationError(
      `ad-hoc group "${group}" must be 1–41 lowercase letters, digits and "-"`,
      { issues: [{ path: 'group', message: 'must be 1–41 lowercase letters, digits and "-"' }] },
    );
  return `${AD_HOC_POOL_PREFIX}${group}`;
}

/** True for a pool of ad-hoc machines. */
export function isAdHocPool(pool: string): boolean {
  return pool.startsWith(AD_HOC_POOL_PREFIX);
}
