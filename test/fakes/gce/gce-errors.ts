/**
 * Error bodies as Compute Engine sends them: `{"error": {code, message, errors[], status}}`
 * for HTTP errors, and `error.errors[]` with `httpErrorStatusCode` inside Operations.
 * Shapes follow the Compute Engine REST reference and "API rate limits" page.
 */

export interface GoogleError {
  readonly status: number;
  readonly body: { error: Record<string, unknown> };
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
};

export function googleError(
  status: number,
  reason: string,
  message: string,
  extra: Record<string, unknown> = {},
): GoogleError {
  return {
    status,
    body: {
      error: {
        code: status,
        message,
        errors: [
          {
            message,
            domain: status === 429 || reason === 'rateLimitExceeded' ? 'usageLimits' : 'global',
            reason,
            ...extra,
          },
        ],
        ...(STATUS_NAMES[status] === undefined ? {} : { status: STATUS_NAMES[status] }),
      },
    },
  };
}

export const notFound = (resource: string): GoogleError =>
  googleError(404, 'notFound', `The resource '${resource}' was not found`);
export const alreadyExists = (resource: string): GoogleError =>
  googleError(409, 'alreadyExists', `The resource '${resource}' already exists`);
export const invalid = (message: string): GoogleError => googleError(400, 'invalid', message);
export const invalidField = (field: string, value: unknown, why: string): GoogleError =>
  googleError(
    400,
    'invalid',
    `Invalid value for field '${field}': '${typeof value === 'string' ? value : JSON.stringify(value)}'. ${why}`,
  );
export const resourceInUse = (resource: string, user: string): GoogleError =>
  googleError(
    400,
    'resourceInUseByAnotherResource',
    `The ${resource} resource is already being used by '${user}'`,
  );
export const unauthenticated = (): GoogleError => ({
  status: 401,
  body: {
    error: {
      code: 401,
      message:
        'Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential.',
      errors: [
        {
          message: 'Login Required.',
          domain: 'global',
          reason: 'required',
          location: 'Authorization',
          locationType: 'header',
        },
      ],
      status: 'UNAUTHENTICATED',
    },
  },
});
export const forbidden = (permission: string, resource: string): GoogleError =>
  googleError(403, 'forbidden', `Required '${permission}' permission for '${resource}'`);
export const backendError = (status = 503): GoogleError =>
  googleError(
    status,
    'backendError',
    status === 503
      ? 'The service is currently unavailable.'
      : 'Internal error. Please try again or contact Google Support.',
  );

/** Over a per-minute rate quota: 429 (newer paths) or 403 (documented for Compute), reason rateLimitExceeded. */
export function rateLimited(
  status: 429 | 403,
  metric: string,
  limit: number,
  project: string,
): GoogleError {
  const message = `Quota exceeded for quota metric '${metric}' and limit '${metric} per minute' of service 'compute.googleapis.com' for consumer 'project_number:${project}'.`;
  return {
    status,
    body: {
      error: {
        code: status,
        message,
        errors: [{ message, domain: 'usageLimits', reason: 'rateLimitExceeded' }],
        status: status === 429 ? 'RESOURCE_EXHAUSTED' : 'PERMISSION_DENIED',
        details: [
          {
            '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
            reason: 'RATE_LIMIT_EXCEEDED',
            domain: 'googleapis.com',
            metadata: {
              service: 'compute.googleapis.com',
              quota_metric: `compute.googleapis.com/${metric.toLowerCase().replace(/ /g, '_')}`,
              quota_limit_value: String(limit),
            },
          },
        ],
      },
    },
  };
}

/** An error inside an Operation. */
export interface OperationError {
  readonly code: string;
  readonly message: string;
  readonly httpStatus: number;
  readonly httpMessage: string;
}

export const zoneExhausted = (zone: string, machineType: string): OperationError => ({
  code: 'ZONE_RESOURCE_POOL_EXHAUSTED',
  message: `The zone 'projects/kumo/zones/${zone}' does not have enough resources available to fulfill the request.  Try a different zone, or try again later. (${machineType})`,
  httpStatus: 503,
  httpMessage: 'SERVICE UNAVAILABLE',
});

export const quotaExceeded = (metric: string, limit: number, region: string): OperationError => ({
  code: 'QUOTA_EXCEEDED',
  message: `Quota '${metric}' exceeded.  Limit: ${limit.toFixed(1)} in region ${region}.`,
  httpStatus: 403,
  httpMessage: 'FORBIDDEN',
});

export const alreadyExistsInOperation = (resource: string): OperationError => ({
  code: 'RESOURCE_ALREADY_EXISTS',
  message: `The resource '${resource}' already exists`,
  httpStatus: 409,
  httpMessage: 'CONFLICT',
});
