/**
 * Durations in policies: a number of milliseconds, or text such as `90s`, `5m`,
 * `1h30m`, `250ms`. Always milliseconds once parsed.
 */
import { z } from 'zod';

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const WHOLE = /^(\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
const MAX_MS = 365 * 24 * 3_600_000;

/** Milliseconds in a duration text (`1h30m` → 5400000); undefined when it is not one. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (!WHOLE.test(t)) return undefined;
  let ms = 0;
  for (const m of t.matchAll(PART)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms;
}

/** A short text for a duration in ms: `90s`, `5m`, `1h30m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return [h > 0 ? `${h}h` : '', m > 0 ? `${m}m` : '', s > 0 ? `${s}s` : ''].join('') || '0s';
}

/**
 * A duration field: `90s`, `5m`, `1h30m`, `250ms`, or a number of milliseconds.
 *
 * @example
 * ```ts
 * DurationSchema.parse('1m30s'); // 90000
 * ```
 */
export const DurationSchema = z
  .union([z.number(), z.string()], {
    error: 'a duration is a number of milliseconds or text such as 90s, 5m, 1h30m',
  })
  .transform((value, ctx) => {
    const ms = typeof value === 'number' ? value : parseDuration(value);
    if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_MS) {
      ctx.addIssue({
        code: 'custom',
        message:
          typeof value === 'number'
            ? `${value} ms is not a duration between 0 and a year`
            : `"${value}" is not a duration; write e.g. 90s, 5m, 1h30m or a number of milliseconds`,
      });
      return z.NEVER;
    }
    return ms;
  });
export type DurationInput = z.input<typeof DurationSchema>;
