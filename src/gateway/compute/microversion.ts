/**
 * Compute microversions: clients ask with `OpenStack-API-Version: compute 2.37` (or the
 * older `X-OpenStack-Nova-API-Version: 2.37`), get the minimum (2.1) when they say
 * nothing, the maximum for `latest`, and 406 outside the range, as Nova answers
 * (nova/api/openstack/wsgi.py, api_version_request.py). Every compute response says
 * which version it was served at.
 */
import { HttpError, badRequest } from '../http/errors.js';

export interface Microversion {
  readonly major: number;
  readonly minor: number;
}

export const MIN_MICROVERSION: Microversion = Object.freeze({ major: 2, minor: 1 });
/**
 * The newest behaviour the gateway keeps: 2.37 (`networks` is required: `auto`, `none`
 * or a list) and 2.38 (an unknown status filter is a 400). Within 2.1–2.38 it also
 * honours 2.2 (key pair type, 201/204), 2.9 (`locked`), 2.19 (`description`),
 * 2.26 (`tags`), 2.35 (key pair paging) and 2.36 (the image proxy is gone).
 */
export const MAX_MICROVERSION: Microversion = Object.freeze({ major: 2, minor: 38 });

export const formatVersion = (v: Microversion): string => `${v.major}.${v.minor}`;

const compare = (a: Microversion, b: Microversion): number =>
  a.major - b.major || a.minor - b.minor;

/** True when `v` is at least 2.`minor`. */
export function atLeast(v: Microversion | undefined, minor: number): boolean {
  return v !== undefined && compare(v, { major: 2, minor }) >= 0;
}

function header(
  headers: Readonly<Record<string, string | string[] | undefined>>,
  name: string,
): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * The microversion a request asks for.
 * @throws HttpError 400 for a malformed version, 406 for one outside the range.
 */
export function negotiate(
  headers: Readonly<Record<string, string | string[] | undefined>>,
): Microversion {
  let asked: string | undefined;
  const modern = header(headers, 'openstack-api-version');
  if (modern !== undefined) {
    for (const part of modern.split(',')) {
      const [service, version] = part.trim().split(/\s+/);
      if (service?.toLowerCase() === 'compute' && version !== undefined) asked = version;
    }
  }
  asked ??= header(headers, 'x-openstack-nova-api-version')?.trim();
  if (asked === undefined || asked === '') return MIN_MICROVERSION;
  if (asked.toLowerCase() === 'latest') return MAX_MICROVERSION;
  const m = /^([1-9]\d*)\.([1-9]\d*|0)$/.exec(asked);
  if (m === null)
    throw badRequest(
      `API Version String ${asked} is of invalid format. Must be of format MajorNum.MinorNum.`,
    );
  const version = { major: Number(m[1]), minor: Number(m[2]) };
  if (compare(version, MIN_MICROVERSION) < 0 || compare(version, MAX_MICROVERSION) > 0)
    throw new HttpError(
      406,
      `Version ${asked} is not supported by the API. Minimum is ${formatVersion(MIN_MICROVERSION)} and maximum is ${formatVersion(MAX_MICROVERSION)}.`,
    );
  return version;
}

/** The headers saying which microversion served a response. */
export function versionHeaders(v: Microversion): Record<string, string> {
  return {
    'OpenStack-API-Version': `compute ${formatVersion(v)}`,
    'X-OpenStack-Nova-API-Version': formatVersion(v),
    Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}
