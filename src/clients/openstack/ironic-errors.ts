/**
 * What Ironic said when a call failed, kept verbatim. The client throws this; the
 * bare-metal provider turns it into kumo's typed errors (`providers/baremetal/baremetal-errors.ts`).
 */
export class IronicApiError extends Error {
  /** HTTP status; 0 when no response arrived (connection refused, reset, timed out). */
  readonly status: number;
  /**
   * A short code for what went wrong: derived from the fault text where Ironic has no
   * code of its own (`NodeLocked`, `NodeAssociated`, `DuplicateName`, `NotFound`,
   * `InvalidState`, `VersionNotSupported`), else `HTTP<status>`, or `ConnectionError`
   * and `RequestTimeout` when the request never got an answer.
   */
  readonly code: string;
  /** `x-openstack-request-id` of the response, when there was one. */
  readonly requestId: string | undefined;
  readonly method: string;
  /** Path of the request, without the endpoint (never carries credentials). */
  readonly path: string;
  /** Seconds from a `Retry-After` header, when the server sent one. */
  readonly retryAfterSeconds: number | undefined;

  constructor(input: {
    status: number;
    code: string;
    message: string;
    method: string;
    path: string;
    requestId?: string | undefined;
    retryAfterSeconds?: number | undefined;
    cause?: unknown;
  }) {
    super(input.message, input.cause === undefined ? undefined : { cause: input.cause });
    this.name = 'IronicApiError';
    this.status = input.status;
    this.code = input.code;
    this.method = input.method;
    this.path = input.path;
    this.requestId = input.requestId;
    this.retryAfterSeconds = input.retryAfterSeconds;
  }
}

/**
 * Ironic wraps its fault in a JSON string inside JSON:
 * `{"error_message": "{\"faultstring\": \"…\", \"faultcode\": \"Client\"}"}`; a 406 for
 * an unsupported microversion carries `{"code", "title", "description"}` inside
 * instead. Anything else (a proxy's HTML page) is returned as text.
 */
export function ironicFaultText(body: string): string {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return body.trim().slice(0, 500);
  }
  const wrapped = typeof outer === 'object' && outer !== null ? (outer as Record<string, unknown>).error_message : undefined;
  let inner: unknown = wrapped;
  if (typeof wrapped === 'string') {
    try {
      inner = JSON.parse(wrapped);
    } catch {
      return wrapped;
    }
  }
  if (typeof inner === 'object' && inner !== null) {
    const fault = inner as Record<string, unknown>;
    if (typeof fault.faultstring === 'string') return fault.faultstring;
    if (typeof fault.description === 'string') return fault.description;
    if (typeof fault.title === 'string') return fault.title;
  }
  return body.trim().slice(0, 500);
}

/** Ironic's exceptions have names but the wire carries only their text; these patterns recover the kind. */
const FAULT_CODES: readonly (readonly [RegExp, string])[] = [
  [/is locked by host|please retry after the current operation/i, 'NodeLocked'],
  [/is associated with instance/i, 'NodeAssociated'],
  [/already exists|duplicate/i, 'DuplicateName'],
  [/can not be performed on node .* while it is in state|is in .* state|not in .* state/i, 'InvalidState'],
  [/version .* (is )?not supported|unsupported .*version/i, 'VersionNotSupported'],
  [/could not be found/i, 'NotFound'],
];

/** A short code for an HTTP failure, from the status and Ironic's fault text. */
export function ironicErrorCode(status: number, fault: string): string {
  if (status === 406) return 'VersionNotSupported';
  for (const [pattern, code] of FAULT_CODES) if (pattern.test(fault)) return code;
  if (status === 404) return 'NotFound';
  return `HTTP${status}`;
}
