/**
 * EC2's errors in kumo's terms. Every error keeps the EC2 code, HTTP status and
 * request id in `cause` (a plain `CloudCause`), so support tickets can quote them;
 * messages are scrubbed of anything that looks like an access key id.
 */
import {
  AuthError,
  Conflict,
  InsufficientCapacity,
  isKumoError,
  NotFound,
  ProviderError,
  QuotaExceeded,
  Throttled,
  Timeout,
  ValidationError,
  type CloudCause,
  type KumoError,
} from '../../core/index.js';

const AUTH = new Set([
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
  'Blocked',
  'PendingVerification',
  'ExpiredToken',
  'RequestExpired',
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
]);
const THROTTLED = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'TooManyRequestsException',
]);
const QUOTA = new Set([
  'InstanceLimitExceeded',
  'VcpuLimitExceeded',
  'MaxSpotInstanceCountExceeded',
  'VpcLimitExceeded',
  'SubnetLimitExceeded',
  'SecurityGroupLimitExceeded',
  'RulesPerSecurityGroupLimitExceeded',
  'InternetGatewayLimitExceeded',
  'RouteTableLimitExceeded',
  'RouteLimitExceeded',
  'ResourceLimitExceeded',
  'AddressLimitExceeded',
  'KeyPairLimitExceeded',
  'TagLimitExceeded',
  'VolumeLimitExceeded',
  'InsufficientFreeAddressesInSubnet',
]);
/** Capacity the cloud lacks now, in this zone; another zone (or later) may have it. */
export const CAPACITY_CODES: ReadonlySet<string> = new Set([
  'InsufficientInstanceCapacity',
  'InsufficientHostCapacity',
  'InsufficientReservedInstanceCapacity',
  'InsufficientCapacity',
  'InsufficientCapacityOnHost',
  'Unsupported',
  'SpotMaxPriceTooLow',
]);
const VALIDATION = new Set([
  'InvalidParameterValue',
  'InvalidParameter',
  'InvalidParameterCombination',
  'MissingParameter',
  'UnknownParameter',
  'InvalidInput',
  'ValidationError',
  'InvalidAMIID.Malformed',
  'InvalidInstanceID.Malformed',
  'InvalidSubnetID.Malformed',
  'InvalidVpcID.Malformed',
  'InvalidGroupId.Malformed',
  'InvalidID',
  'InvalidUserData.Malformed',
  'InvalidBlockDeviceMapping',
  'InvalidInstanceType',
  'InvalidKeyPair.Format',
  'InvalidSubnet.Range',
  'InvalidVpc.Range',
  'InvalidSubnet.Conflict',
  'VPCIdNotSpecified',
  'UnsupportedOperation',
  'InvalidAction',
]);
const CONFLICT = new Set([
  'IdempotentParameterMismatch',
  'DependencyViolation',
  'IncorrectInstanceState',
  'IncorrectState',
  'InvalidGroup.Duplicate',
  'InvalidKeyPair.Duplicate',
  'InvalidPermission.Duplicate',
  'Resource.AlreadyAssociated',
  'RouteAlreadyExists',
  'Gateway.NotAttached',
  'CannotDelete',
  'InvalidGroup.InUse',
]);
/** Connection-level failures: the call may or may not have taken effect. */
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What an SDK error looks like from outside (the SDK's `ServiceException` and its network errors). */
interface SdkErrorShape {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
}

function isSdkError(err: unknown): err is SdkErrorShape {
  return err instanceof Error;
}

/** Removes what looks like an AWS access key id from text that may be shown or logged. */
export function scrub(text: string): string {
  return text.replace(/\b(AKIA|ASIA|AIDA|AROA)[A-Z0-9]{12,}\b/g, '[redacted]');
}

/** The EC2 error code of an error, when it has one. */
export function awsCode(err: unknown): string | undefined {
  if (isKumoError(err)) {
    const cause = err.cause as CloudCause | undefined;
    return typeof cause === 'object' && cause !== null ? cause.code : undefined;
  }
  return isSdkError(err) ? err.name : undefined;
}

/** Instance ids named in an `InvalidInstanceID.NotFound` message ("The instance IDs 'i-1, i-2' do not exist"). */
export function missingInstanceIds(err: unknown): string[] {
  const message = isKumoError(err)
    ? ((err.cause as CloudCause | undefined)?.message ?? err.message)
    : err instanceof Error
      ? err.message
      : '';
  return [...message.matchAll(/\bi-[0-9a-f]{8,17}\b/g)].map((m) => m[0]);
}

/**
 * Translates anything the SDK throws into a kumo error (abort errors pass through,
 * so cancellation stays cancellation).
 *
 * @example
 * ```ts
 * try { await client.send(cmd); } catch (err) { throw toKumoError(err, { provider: 'aws', action: 'RunInstances' }); }
 * ```
 */
export function toKumoError(err: unknown, context: { provider: string; action: string }): Error {
  if (isKumoError(err)) return err;
  if (!isSdkError(err))
    return new ProviderError(`EC2 ${context.action} failed: ${scrub(String(err))}`, {
      provider: context.provider,
    });
  if (err.name === 'AbortError') return err;
  const status = err.$metadata?.httpStatusCode;
  const requestId = err.$metadata?.requestId;
  const message = scrub(err.message);
  const networkCode = err.code !== undefined && NETWORK.has(err.code) ? err.code : undefined;
  const code = networkCode ?? err.name;
  const cause: CloudCause = {
    code,
    ...(status === undefined ? {} : { status }),
    ...(requestId === undefined ? {} : { requestId }),
    message,
  };
  const options = { provider: context.provider, cause, details: { action: context.action } };
  const text = `EC2 ${context.action}: ${message}${requestId === undefined ? '' : ` (request ${requestId})`}`;
  let out: KumoError;
  if (networkCode !== undefined || code === 'TimeoutError' || code === 'RequestTimeout')
    out = new Timeout(
      `EC2 ${context.action}: the connection failed (${code}); the call may have taken effect — retry with the same idempotency key`,
      options,
    );
  else if (err.name === 'CredentialsProviderError')
    out = new AuthError(
      `no AWS credentials found (${message}); set AWS_PROFILE or AWS_ACCESS_KEY_ID, run \`aws sso login\`, or pass profile`,
      options,
    );
  else if (AUTH.has(code)) out = new AuthError(text, options);
  else if (THROTTLED.has(code)) out = new Throttled(text, options);
  else if (QUOTA.has(code)) out = new QuotaExceeded(text, options);
  else if (CAPACITY_CODES.has(code)) out = new InsufficientCapacity(text, options);
  else if (
    code.endsWith('.NotFound') ||
    code === 'InvalidAMIID.Unavailable' ||
    code === 'InvalidInstanceID.NotFound'
  )
    out = new NotFound(text, options);
  else if (CONFLICT.has(code)) out = new Conflict(text, options);
  else if (VALIDATION.has(code) || code.endsWith('.Malformed'))
    out = new ValidationError(text, options);
  else
    out = new ProviderError(text, {
      ...options,
      retryable: (status ?? 0) >= 500 || err.$fault === 'server',
    });
  return out;
}
