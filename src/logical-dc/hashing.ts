import { createHash } from 'node:crypto';

/** JSON with object keys sorted, so equal values hash equal whatever their key order. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
}

/** A short hex digest of a value's stable JSON. */
export function hashOf(value: unknown, length = 12): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex').slice(0, length);
}

/**
 * The idempotency key of one create batch, derived from what it makes and when it was
 * decided: the state's lineage and the serial the plan was made at never repeat, so a
 * later apply of the same spec gets fresh keys (a cloud may remember old tokens), while
 * the key journaled with the intent is the one every retry and resume reuses.
 * Fits every cloud's client token: at most 64 characters of `[A-Za-z0-9._:-]`.
 */
export function createKey(input: {
  dc: string;
  lineage: string;
  pool: string;
  specHash: string;
  serial: number;
  batch: number;
}): string {
  const digest = hashOf(
    [input.dc, input.lineage, input.pool, input.specHash, input.serial, input.batch],
    20,
  );
  return `${input.pool}:${digest}`;
}
