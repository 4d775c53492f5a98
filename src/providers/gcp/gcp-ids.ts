/**
 * Names and ids Compute Engine needs: request ids derived from idempotency keys, and
 * the `<zone>/<name>` form kumo uses as a GCE machine's `providerId`.
 */
import { createHash } from 'node:crypto';
import { ValidationError } from '../../core/index.js';

/** kumo's namespace for name-based UUIDs (RFC 9562 §5.5); fixed forever, or request ids change meaning. */
const KUMO_UUID_NAMESPACE = '6f1c3a52-5c1e-4b7e-9a43-1d2f0c8e7b90';

/**
 * A version-5 (SHA-1, name-based) UUID of `name`: the same name always gives the same
 * UUID, and the version and variant bits make it never the all-zero UUID, which
 * Compute Engine refuses as a `requestId`.
 *
 * @example
 * ```ts
 * requestIdFor('insert:pool-a:us-central1-a:web-0'); // 'xxxxxxxx-xxxx-5xxx-yxxx-xxxxxxxxxxxx'
 * ```
 */
export function requestIdFor(name: string): string {
  const ns = Buffer.from(KUMO_UUID_NAMESPACE.replace(/-/g, ''), 'hex');
  const bytes = createHash('sha1').update(ns).update(name, 'utf8').digest().subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x50;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** GCE resource names: RFC 1035 labels, 1–63 characters. */
export const GCE_NAME = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

const ZONE = /^[a-z]+-[a-z]+[0-9]+-[a-z]$/;

export interface InstanceRef {
  readonly zone: string;
  readonly name: string;
}

/** `us-central1-a/web-0`: short, unique in a project, and enough to address the instance. */
export function toProviderId(ref: InstanceRef): string {
  return `${ref.zone}/${ref.name}`;
}

/**
 * Reads a machine id: kumo's `<zone>/<name>`, or any of Google's forms
 * (`zones/<zone>/instances/<name>`, `projects/<p>/zones/…`, a full self-link).
 * @throws ValidationError naming the accepted forms.
 */
export function parseProviderId(providerId: string): InstanceRef {
  const m =
    /(?:^|\/)zones\/([^/]+)\/instances\/([^/?#]+)$/.exec(providerId) ??
    /^([^/]+)\/([^/]+)$/.exec(providerId);
  const zone = m?.[1];
  const name = m?.[2];
  if (zone === undefined || name === undefined || !ZONE.test(zone) || !GCE_NAME.test(name))
    throw new ValidationError(
      `"${providerId}" is not a GCE machine id; expected "<zone>/<instance-name>" such as "us-central1-a/web-0", or an instance self-link`,
      {
        issues: [{ path: 'providerId', message: 'expected <zone>/<instance-name>' }],
      },
    );
  return { zone, name };
}

/** The last path segment of a Google resource URL (`…/zones/us-central1-a` → `us-central1-a`). */
export function lastSegment(url: string | null | undefined): string {
  if (!url) return '';
  const i = url.lastIndexOf('/');
  return i < 0 ? url : url.slice(i + 1);
}

/** True for `us-central1-a` style zone names. */
export function isZoneName(value: string): boolean {
  return ZONE.test(value);
}
