import { OpenStackApiError } from './http.js';

/**
 * Ironic's exceptions have names (`NodeLocked`, `NodeAssociated`, …) but its error
 * body carries only their text and a `faultcode` of "Client" or "Server"; these
 * patterns recover the kind from the text, so the provider can tell a node that is
 * busy for a moment from a request that can never succeed.
 */
const FAULTS: readonly (readonly [RegExp, IronicFault])[] = [
  [/is locked by host|please retry after the current operation/i, 'NodeLocked'],
  [/is associated with instance|already (has|have) an? (instance|allocation)/i, 'NodeAssociated'],
  [/already exists|duplicate/i, 'Duplicate'],
  [/can ?not be performed on node .* while it is in state|while it is in state/i, 'InvalidState'],
  [
    /version .*(is )?not supported|unsupported .*version|version .* was requested/i,
    'VersionNotSupported',
  ],
  [/could not be found/i, 'NotFound'],
];

/** The kinds of Ironic failure kumo treats differently. */
export type IronicFault =
  | 'NodeLocked'
  | 'NodeAssociated'
  | 'Duplicate'
  | 'InvalidState'
  | 'VersionNotSupported'
  | 'NotFound'
  | 'Other';

/**
 * The kind of an Ironic error response: from its status and message.
 *
 * @example
 * ```ts
 * try { await ironic.setProvisionState(id, { target: 'deleted' }); }
 * catch (err) { if (ironicFault(err) === 'NodeLocked') await retryLater(); }
 * ```
 */
export function ironicFault(err: unknown): IronicFault {
  if (!(err instanceof OpenStackApiError)) return 'Other';
  if (err.status === 406) return 'VersionNotSupported';
  for (const [pattern, fault] of FAULTS) if (pattern.test(err.detail)) return fault;
  if (err.status === 404) return 'NotFound';
  return 'Other';
}
