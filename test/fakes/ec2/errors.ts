/** An EC2 error the fake answers with, in EC2's error envelope. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    /** HTTP status: 400 for client errors; EC2 uses 5xx for throttling, capacity and internal errors. */
    readonly status = 400,
  ) {
    super(message);
  }
}

/** The instance ids EC2 names in an `InvalidInstanceID.NotFound` message. */
export function notFoundMessage(kind: 'instance', ids: readonly string[]): string {
  return ids.length === 1
    ? `The ${kind} ID '${ids[0]}' does not exist`
    : `The ${kind} IDs '${ids.join(', ')}' do not exist`;
}
