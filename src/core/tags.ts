import { createHash } from 'node:crypto';
import { ValidationError } from './errors.js';
import type { Labels } from './model/labels.js';

/** The tags every resource kumo makes carries, so orphans can be found after a crash. */
export const TAG_DC = 'kumo-dc';
export const TAG_POOL = 'kumo-pool';
export const TAG_KEY = 'kumo-key';
/** kumo's own name of a machine (`Machine.id`). */
export const TAG_ID = 'kumo-id';

/** The ownership tags for one machine of a request. */
export function ownershipTags(input: {
  dc: string;
  pool: string;
  key: string;
  id?: string;
}): Labels {
  return {
    [TAG_DC]: input.dc,
    [TAG_POOL]: input.pool,
    [TAG_KEY]: input.key,
    ...(input.id === undefined ? {} : { [TAG_ID]: input.id }),
  };
}

/** A short stable hash (hex), for names and client tokens derived from longer keys. */
export function shortHash(value: string, length = 10): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * The deterministic name prefix of a request's machines: the same key always gives
 * the same names, which is what lets a retry find what an earlier try made.
 * Valid as a GCP instance name, an AWS Name tag, a Nova server name and an Ironic node name.
 */
export function machineNamePrefix(input: {
  pool: string;
  idempotencyKey: string;
  namePrefix?: string | undefined;
}): string {
  if (input.namePrefix !== undefined) return input.namePrefix;
  let pool = input.pool
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!/^[a-z]/.test(pool)) pool = `k-${pool}`;
  return `${pool.slice(0, 40).replace(/-+$/, '')}-${shortHash(input.idempotencyKey, 8)}`;
}

/** The name of machine `index` of a request. */
export function machineName(prefix: string, index: number): string {
  return `${prefix}-${index}`;
}

// --- AWS tags ---------------------------------------------------------------------
// Keys ≤128, values ≤256 Unicode characters; the `aws:` prefix is reserved. Labels
// already fit, so the only work is refusing what AWS would refuse.

/** Checks labels against AWS tag rules and returns them as EC2 `Tag` pairs. */
export function toAwsTags(labels: Labels): { Key: string; Value: string }[] {
  const out: { Key: string; Value: string }[] = [];
  for (const [Key, Value] of Object.entries(labels)) {
    if (Key.toLowerCase().startsWith('aws:'))
      throw new ValidationError(`label "${Key}": the aws: prefix is reserved by AWS`, {
        issues: [{ path: `labels.${Key}`, message: 'the aws: prefix is reserved' }],
      });
    if (Key.length > 128 || Value.length > 256)
      throw new ValidationError(
        `label "${Key}": AWS tag keys are at most 128 and values 256 characters`,
        { issues: [{ path: `labels.${Key}`, message: 'too long for an AWS tag' }] },
      );
    out.push({ Key, Value });
  }
  return out;
}

export function fromAwsTags(tags: readonly { Key?: string; Value?: string }[] | undefined): Labels {
  const out: Labels = {};
  for (const t of tags ?? [])
    if (t.Key !== undefined && !t.Key.startsWith('aws:')) out[t.Key] = t.Value ?? '';
  return out;
}

// --- GCP labels -------------------------------------------------------------------
// Keys and values: at most 63 characters of lowercase letters, digits, "_" and "-";
// keys start with a lowercase letter. The encoding below is reversible: [a-z0-9-]
// pass through; every other byte of the UTF-8 form becomes "_" and two hex digits.
// A key that would not start with a letter gets the marker "k_-", which no escape
// can produce ("_" is always followed by hex), so decoding is unambiguous.

const GCP_MAX = 63;
const KEY_MARKER = 'k_-';

function gcpEscape(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[a-z0-9-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}

function gcpUnescape(value: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '_') {
      const hex = value.slice(i + 1, i + 3);
      if (!/^[0-9a-f]{2}$/.test(hex))
        throw new ValidationError(`"${value}" is not a kumo-encoded GCP label`);
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else bytes.push(ch.charCodeAt(0));
  }
  return Buffer.from(bytes).toString('utf8');
}

export function encodeGcpLabelKey(key: string): string {
  const escaped = gcpEscape(key);
  return /^[a-z]/.test(escaped) ? escaped : `${KEY_MARKER}${escaped}`;
}

export function decodeGcpLabelKey(key: string): string {
  return gcpUnescape(key.startsWith(KEY_MARKER) ? key.slice(KEY_MARKER.length) : key);
}

/** Encodes labels for GCP reversibly; refuses, naming the label, what cannot fit in 63 characters. */
export function toGcpLabels(labels: Labels): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(labels)) {
    const k = encodeGcpLabelKey(key);
    const v = gcpEscape(value);
    if (k.length > GCP_MAX)
      issues.push({
        path: `labels.${key}`,
        message: `key encodes to ${k.length} characters; GCP allows ${GCP_MAX}`,
      });
    if (v.length > GCP_MAX)
      issues.push({
        path: `labels.${key}`,
        message: `value encodes to ${v.length} characters; GCP allows ${GCP_MAX} (use lowercase letters, digits and "-" to keep it short)`,
      });
    out[k] = v;
  }
  if (issues.length > 0)
    throw new ValidationError(
      `labels do not fit GCP label rules: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      { issues },
    );
  return out;
}

export function fromGcpLabels(labels: Readonly<Record<string, string>> | null | undefined): Labels {
  const out: Labels = {};
  for (const [k, v] of Object.entries(labels ?? {})) {
    try {
      out[decodeGcpLabelKey(k)] = gcpUnescape(v);
    } catch {
      // NOTE: a label someone set by hand in the console need not be kumo-encoded; keep it as is.
      out[k] = v;
    }
  }
  return out;
}

// --- OpenStack metadata -----------------------------------------------------------
// Nova server metadata: keys and values at most 255 characters, at most 128 items
// by default. Neutral labels fit; check the count.

export function toOpenStackMetadata(labels: Labels): Record<string, string> {
  const entries = Object.entries(labels);
  if (entries.length > 128)
    throw new ValidationError(`${entries.length} labels: Nova metadata holds at most 128 items`, {
      issues: [{ path: 'labels', message: 'too many labels for Nova metadata' }],
    });
  return Object.fromEntries(entries);
}

export function fromOpenStackMetadata(
  metadata: Readonly<Record<string, string>> | null | undefined,
): Labels {
  return { ...(metadata ?? {}) };
}

// --- Ironic `extra` ---------------------------------------------------------------
// `extra` is free JSON, changed through JSON Patch, whose paths need "~" and "/"
// escaped (RFC 6901). kumo keeps its labels under one key so they never collide
// with an operator's own extra fields.

export const IRONIC_LABELS_KEY = 'kumo_labels';

/** The `extra` fields that carry `labels`. */
export function toIronicExtra(labels: Labels): Record<string, unknown> {
  return { [IRONIC_LABELS_KEY]: { ...labels } };
}

export function fromIronicExtra(
  extra: Readonly<Record<string, unknown>> | null | undefined,
): Labels {
  const value = extra?.[IRONIC_LABELS_KEY];
  if (typeof value !== 'object' || value === null) return {};
  const out: Labels = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>))
    if (typeof v === 'string') out[k] = v;
  return out;
}

/** A JSON Pointer segment (RFC 6901) for a key, for Ironic's PATCH paths. */
export function jsonPointerSegment(key: string): string {
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
}
