import { z } from 'zod';

/**
 * Neutral labels: small string maps that every cloud can carry once encoded
 * (see `core/tags`). Keys are 1–63 characters of letters, digits, `.`, `_`, `-`, `/`;
 * values up to 255 characters.
 */
export const LabelKeySchema = z
  .string()
  .min(1, 'label keys cannot be empty')
  .max(63, 'label keys are at most 63 characters')
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._/-]*$/,
    'label keys use letters, digits, ".", "_", "-", "/" and start with a letter or digit',
  );

export const LabelsSchema = z.record(
  LabelKeySchema,
  z.string().max(255, 'label values are at most 255 characters'),
);
export type Labels = z.infer<typeof LabelsSchema>;

/** True when `labels` has every key/value of `selector`. */
export function matchesLabels(
  labels: Readonly<Labels>,
  selector: Readonly<Labels> | undefined,
): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector)) if (labels[k] !== v) return false;
  return true;
}
