import type { z } from 'zod';
import { ValidationError, type Issue } from './errors.js';

/** Turns zod's issues into kumo's: a dotted path and a plain reason for each. */
export function toIssues(error: z.ZodError, prefix = ''): Issue[] {
  return error.issues.map((issue) => {
    const path = [prefix, ...issue.path.map(String)].filter((p) => p !== '').join('.');
    return { path: path === '' ? '(root)' : path, message: issue.message };
  });
}

/**
 * Parses `value` with `schema`, or throws a {@link ValidationError} that names every
 * field at fault and why.
 *
 * @example
 * ```ts
 * const spec = parse(MachineSpecSchema, input, 'machine spec');
 * ```
 */
export function parse<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  prefix = '',
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues = toIssues(result.error, prefix);
  const list = issues.map((i) => `${i.path}: ${i.message}`).join('; ');
  throw new ValidationError(`invalid ${what}: ${list}`, { issues });
}
