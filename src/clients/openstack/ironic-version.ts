/**
 * Ironic API microversions ("1.56") and the features kumo gates on them. Every
 * request carries `X-OpenStack-Ironic-API-Version`: without it the server answers as
 * 1.1, where nodes skip `enroll` and `name` is refused.
 */

export interface Microversion {
  readonly major: number;
  readonly minor: number;
}

/** Oldest version kumo can work with: resource classes (1.21) are how it groups sizes. */
export const IRONIC_MIN_VERSION = '1.21';
/** Newest version whose shapes kumo knows (Ironic 2023.1 "Antelope" tops out here). */
export const IRONIC_MAX_VERSION = '1.82';

/** The first version of each feature kumo uses where present. */
export const IRONIC_FEATURES = {
  /** Nodes start in `enroll`; `manage` then `provide`. */
  enrollState: '1.11',
  /** `PUT /v1/nodes/{id}/traits`, `traits` on nodes. */
  traits: '1.37',
  /** `/v1/allocations`: the server picks and reserves a node atomically. */
  allocations: '1.52',
  /** `configdrive` as a JSON object the server turns into an ISO itself. */
  configDriveJson: '1.56',
} as const;

const VERSION = /^(\d+)\.(\d+)$/;

/** Parses "1.56"; undefined for anything else. */
export function parseMicroversion(value: string): Microversion | undefined {
  const m = VERSION.exec(value.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** Negative, zero or positive as `a` is older than, equal to or newer than `b`. */
export function compareMicroversions(a: string, b: string): number {
  const pa = parseMicroversion(a);
  const pb = parseMicroversion(b);
  if (pa === undefined || pb === undefined)
    throw new RangeError(`not a microversion: "${pa === undefined ? a : b}"`);
  return pa.major - pb.major || pa.minor - pb.minor;
}

/**
 * The version to speak with a server offering `min`…`max`: the newest both sides
 * know, or the `pinned` one when it lies in both ranges.
 * @returns the version, or a reason why none fits.
 */
export function chooseMicroversion(
  server: { min: string; max: string },
  pinned?: string,
): { version: string } | { error: string } {
  if (pinned !== undefined) {
    if (parseMicroversion(pinned) === undefined)
      return { error: `microversion "${pinned}" is not of the form 1.N` };
    if (compareMicroversions(pinned, IRONIC_MIN_VERSION) < 0)
      return {
        error: `microversion ${pinned} is older than ${IRONIC_MIN_VERSION}, the oldest kumo supports`,
      };
    if (
      compareMicroversions(pinned, server.min) < 0 ||
      compareMicroversions(pinned, server.max) > 0
    )
      return {
        error: `microversion ${pinned} is outside the server's range ${server.min}–${server.max}`,
      };
    return { version: pinned };
  }
  const version =
    compareMicroversions(server.max, IRONIC_MAX_VERSION) < 0 ? server.max : IRONIC_MAX_VERSION;
  if (compareMicroversions(version, IRONIC_MIN_VERSION) < 0)
    return {
      error: `the server supports microversions ${server.min}–${server.max}; kumo needs at least ${IRONIC_MIN_VERSION}`,
    };
  if (compareMicroversions(version, server.min) < 0)
    return {
      error: `the server needs at least microversion ${server.min}; kumo knows up to ${IRONIC_MAX_VERSION}`,
    };
  return { version };
}

export type IronicFeature = keyof typeof IRONIC_FEATURES;
