/**
 * The HTTP layer shared by every OpenStack wire client (Keystone, Nova, Neutron,
 * Glance, Ironic): fetch with a timeout, JSON in and out, the many shapes of
 * OpenStack error bodies parsed into one {@link OpenStackApiError}, request ids,
 * `Retry-After`, pagination links, and one transparent re-authentication on 401.
 *
 * It throws its own wire-level errors; providers translate them into kumo's typed
 * errors (`providers/<p>/<p>-errors.ts`), because what a 409 or a 400 means depends
 * on the service and the call.
 *
 * @example
 * ```ts
 * const transport = new HttpTransport({ timeoutMs: 30_000 });
 * const ironic = new ServiceClient({ service: 'baremetal', transport, baseUrl: 'http://127.0.0.1:6385/v1',
 *   headers: () => ({ 'X-OpenStack-Ironic-API-Version': '1.82' }) });
 * const { body } = await ironic.request('GET', '/nodes', { query: { limit: 50 } });
 * ```
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { z } from 'zod';
import type { RateLimiter } from '../../core/index.js';

/** The part of `fetch` the clients use; inject one for tests or custom TLS. */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/** What a call did, for metrics and benchmarks (never the token or the body). */
export interface HttpEvent {
  readonly service: string;
  readonly method: string;
  /** URL without the query string (queries may carry names, never secrets; kept short). */
  readonly url: string;
  /** HTTP status, or 0 when no answer came (network failure or timeout). */
  readonly status: number;
  readonly durationMs: number;
  readonly requestId?: string;
}

/** Base of every error the OpenStack clients throw. */
export class OpenStackClientError extends Error {
  /** The OpenStack service type the call went to (`compute`, `identity`, …). */
  readonly service: string;
  constructor(message: string, service: string, options?: { cause?: unknown }) {
    super(message, options);
    this.service = service;
    this.name = new.target.name;
  }
}

/** The service answered with an HTTP error status. */
export class OpenStackApiError extends OpenStackClientError {
  readonly status: number;
  readonly method: string;
  /** Path of the call without the query string. */
  readonly path: string;
  /** The service's own error name: Nova's body key (`itemNotFound`), Neutron's `type`, Keystone's `title`, … */
  readonly code: string | undefined;
  /** The service's message, verbatim. */
  readonly detail: string;
  readonly requestId: string | undefined;
  /** From a `Retry-After` header (seconds or HTTP date) or Nova's `retryAfter`. */
  readonly retryAfterMs: number | undefined;
  constructor(init: {
    service: string;
    status: number;
    method: string;
    path: string;
    code?: string | undefined;
    detail: string;
    requestId?: string | undefined;
    retryAfterMs?: number | undefined;
  }) {
    super(
      `${init.service} ${init.method} ${init.path} → ${init.status}${init.code ? ` ${init.code}` : ''}: ${init.detail}`,
      init.service,
    );
    this.status = init.status;
    this.method = init.method;
    this.path = init.path;
    this.code = init.code;
    this.detail = init.detail;
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }
}

/** No HTTP answer: connection refused or reset, DNS, TLS, or the request timed out. */
export class OpenStackTransportError extends OpenStackClientError {
  readonly kind: 'network' | 'timeout';
  readonly method: string;
  readonly path: string;
  constructor(init: {
    service: string;
    kind: 'network' | 'timeout';
    method: string;
    path: string;
    cause?: unknown;
  }) {
    const reason =
      init.kind === 'timeout' ? 'timed out' : `failed: ${describeNetworkCause(init.cause)}`;
    super(`${init.service} ${init.method} ${init.path} ${reason}`, init.service, {
      cause: init.cause,
    });
    this.kind = init.kind;
    this.method = init.method;
    this.path = init.path;
  }
}

function describeNetworkCause(cause: unknown): string {
  if (cause instanceof Error) {
    const inner = cause.cause;
    const code =
      typeof inner === 'object' && inner !== null && 'code' in inner
        ? String(inner.code)
        : undefined;
    return code ? `${cause.message} (${code})` : cause.message;
  }
  return String(cause);
}

export interface HttpTransportOptions {
  /** Defaults to the global fetch, or a node:https one when `ca` or `insecure` is set. */
  fetch?: FetchLike;
  /** Per request, default 60 s. */
  timeoutMs?: number;
  /** PEM text of extra CA certificates to trust (the `cacert` of clouds.yaml, read). */
  ca?: string;
  /** Skip TLS certificate checks (`insecure: true` / `verify: false`). For labs only. */
  insecure?: boolean;
  userAgent?: string;
  /** Every call goes through this limiter (per-provider concurrency and rate). */
  limiter?: RateLimiter;
  /** Told after every call, e.g. to count API calls. */
  onEvent?: (event: HttpEvent) => void;
}

export interface RawRequest {
  readonly service: string;
  readonly method: string;
  readonly url: string;
  readonly headers?: Record<string, string>;
  readonly body?: string | Uint8Array;
  readonly signal?: AbortSignal;
}

/**
 * Sends requests: timeout, limiter, events, network errors wrapped. Knows nothing of
 * tokens or JSON; {@link ServiceClient} adds those.
 */
export class HttpTransport {
  readonly #fetch: FetchLike;
  readonly #timeoutMs: number;
  readonly #userAgent: string;
  readonly #limiter: RateLimiter | undefined;
  readonly #onEvent: ((event: HttpEvent) => void) | undefined;

  constructor(options: HttpTransportOptions = {}) {
    this.#fetch =
      options.fetch ??
      (options.ca !== undefined || options.insecure === true
        ? tlsFetch({
            ...(options.ca === undefined ? {} : { ca: options.ca }),
            insecure: options.insecure === true,
          })
        : (url, init) => fetch(url, init));
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#userAgent = options.userAgent ?? 'kumo';
    this.#limiter = options.limiter;
    this.#onEvent = options.onEvent;
  }

  /** Sends one request and returns the response with its body read. */
  async send(req: RawRequest): Promise<{ response: Response; text: string }> {
    const call = (): Promise<{ response: Response; text: string }> => this.#sendNow(req);
    return this.#limiter
      ? this.#limiter.run(call, req.signal ? { signal: req.signal } : {})
      : call();
  }

  async #sendNow(req: RawRequest): Promise<{ response: Response; text: string }> {
    req.signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
    const started = performance.now();
    const path = stripQuery(req.url);
    const emit = (status: number, requestId?: string): void =>
      this.#onEvent?.({
        service: req.service,
        method: req.method,
        url: path,
        status,
        durationMs: performance.now() - started,
        ...(requestId === undefined ? {} : { requestId }),
      });
    try {
      const response = await this.#fetch(req.url, {
        method: req.method,
        headers: { 'User-Agent': this.#userAgent, ...req.headers },
        ...(req.body === undefined ? {} : { body: req.body }),
        signal,
      });
      const text = await response.text();
      emit(response.status, requestIdOf(response.headers));
      return { response, text };
    } catch (error) {
      emit(0);
      if (req.signal?.aborted) throw req.signal.reason;
      const timedOut = timeout.aborted || (error instanceof Error && error.name === 'TimeoutError');
      throw new OpenStackTransportError({
        service: req.service,
        kind: timedOut ? 'timeout' : 'network',
        method: req.method,
        path,
        cause: error,
      });
    }
  }
}

function stripQuery(url: string): string {
  const i = url.indexOf('?');
  return i < 0 ? url : url.slice(0, i);
}

/** The request id of a response: every service sets one of these. */
export function requestIdOf(headers: Headers): string | undefined {
  return (
    headers.get('x-openstack-request-id') ??
    headers.get('x-compute-request-id') ??
    headers.get('openstack-request-id') ??
    undefined
  );
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Pulls the error name and message out of any OpenStack error body:
 * Nova `{"itemNotFound": {"message", "code"}}`, Neutron `{"NeutronError": {"type", "message"}}`,
 * Keystone `{"error": {"title", "message"}}`, Placement `{"errors": [{"code", "detail"}]}`,
 * Ironic `{"error_message": "<JSON with faultstring>"}`, Glance's plain text.
 */
export function parseErrorBody(text: string): {
  code?: string;
  message: string;
  retryAfterMs?: number;
} {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // Glance and some proxies answer text/html: "404 Not Found\n\nThe resource could not be found.\n\n"
    const plain = text
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim();
    return { message: plain.slice(0, 500) || '(empty body)' };
  }
  if (typeof body !== 'object' || body === null) return { message: String(body).slice(0, 500) };
  const obj = body as Record<string, unknown>;
  if ('NeutronError' in obj && isRecord(obj.NeutronError)) {
    const e = obj.NeutronError;
    return { ...optionalCode(e.type), message: str(e.message) || str(e.detail) || 'no message' };
  }
  if ('error_message' in obj) {
    const raw = obj.error_message;
    let inner: unknown = raw;
    if (typeof raw === 'string') {
      try {
        inner = JSON.parse(raw);
      } catch {
        return { message: raw };
      }
    }
    if (isRecord(inner))
      return {
        ...optionalCode(inner.faultcode ?? inner.title),
        message: str(inner.faultstring) || str(inner.description) || 'no message',
      };
    return { message: str(inner) };
  }
  if (Array.isArray(obj.errors) && isRecord(obj.errors[0])) {
    const e = obj.errors[0];
    return {
      ...optionalCode(e.code ?? e.title),
      message: str(e.detail) || str(e.title) || 'no message',
    };
  }
  if (isRecord(obj.error)) {
    const e = obj.error;
    return { ...optionalCode(e.title ?? e.code), message: str(e.message) || 'no message' };
  }
  // Nova: a single key naming the fault.
  const keys = Object.keys(obj);
  if (keys.length === 1) {
    const e = obj[keys[0]!];
    if (!isRecord(e)) return { message: text.slice(0, 500) };
    const retry =
      typeof e.retryAfter === 'string' || typeof e.retryAfter === 'number'
        ? parseRetryAfter(String(e.retryAfter))
        : undefined;
    return {
      code: keys[0]!,
      message: str(e.message) || 'no message',
      ...(retry === undefined ? {} : { retryAfterMs: retry }),
    };
  }
  if (typeof obj.message === 'string') return { message: obj.message };
  if (typeof obj.title === 'string')
    return { code: obj.title, message: str(obj.description) || obj.title };
  return { message: text.slice(0, 500) };
}

function optionalCode(value: unknown): { code?: string } {
  return typeof value === 'string' && value !== '' ? { code: value } : {};
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  return typeof value === 'string'
    ? value
    : value === undefined || value === null
      ? ''
      : JSON.stringify(value);
}

/** Where tokens come from; the Keystone session is one. Absent for `noauth` services. */
export interface TokenSource {
  /** A valid token, authenticating first when none is held or it is about to expire. */
  token(signal?: AbortSignal): Promise<string>;
  /** Drops `token` (the service refused it), so the next `token()` re-authenticates. */
  invalidate(token: string): void;
}

export type QueryValue = string | number | boolean | undefined | readonly string[];

export interface CallOptions<T> {
  query?: Record<string, QueryValue>;
  /** JSON-encoded unless a string or bytes. */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Checks the JSON response body; its output is returned. */
  schema?: z.ZodType<T>;
  /** Statuses that are not errors besides 2xx (Keystone's 300 on version discovery). */
  accept?: readonly number[];
  /** Send no token even when the client has a token source (version documents). */
  anonymous?: boolean;
}

export interface CallResult<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
  readonly requestId: string | undefined;
}

export interface ServiceClientOptions {
  /** Service type, for messages and events: `compute`, `network`, `image`, `identity`, `baremetal`. */
  service: string;
  transport: HttpTransport;
  /** The service's versioned base URL, or how to find it (catalog + discovery). */
  baseUrl: string | (() => Promise<string>);
  /** Absent for `noauth` deployments. */
  auth?: TokenSource;
  /** Extra headers on every call (microversions). */
  headers?: () => Record<string, string>;
}

/**
 * A client for one service: base URL, token, JSON, errors, pagination.
 * A 401 drops the token and repeats the call once with a fresh one.
 */
export class ServiceClient {
  readonly service: string;
  readonly #transport: HttpTransport;
  readonly #baseUrl: string | (() => Promise<string>);
  readonly #auth: TokenSource | undefined;
  readonly #headers: (() => Record<string, string>) | undefined;

  constructor(options: ServiceClientOptions) {
    this.service = options.service;
    this.#transport = options.transport;
    this.#baseUrl = options.baseUrl;
    this.#auth = options.auth;
    this.#headers = options.headers;
  }

  /** The versioned base URL calls go to. */
  async baseUrl(): Promise<string> {
    const base = typeof this.#baseUrl === 'string' ? this.#baseUrl : await this.#baseUrl();
    return base.replace(/\/+$/, '');
  }

  /**
   * One call. `path` is relative to the base URL (`/servers`) or absolute (`http://…`).
   * @throws OpenStackApiError for an error status; OpenStackTransportError when no answer came.
   */
  async request<T = unknown>(
    method: string,
    path: string,
    options: CallOptions<T> = {},
  ): Promise<CallResult<T>> {
    const url = await this.#url(path, options.query);
    const headers: Record<string, string> = {
      Accept: 'application/json',
      ...this.#headers?.(),
      ...options.headers,
    };
    let body: string | Uint8Array | undefined;
    if (options.body !== undefined) {
      if (typeof options.body === 'string' || options.body instanceof Uint8Array)
        body = options.body;
      else {
        body = JSON.stringify(options.body);
        headers['Content-Type'] ??= 'application/json';
      }
    }
    const auth = options.anonymous === true ? undefined : this.#auth;
    for (let attempt = 0; ; attempt++) {
      const token = auth === undefined ? undefined : await auth.token(options.signal);
      const { response, text } = await this.#transport.send({
        service: this.service,
        method,
        url,
        headers: token === undefined ? headers : { ...headers, 'X-Auth-Token': token },
        ...(body === undefined ? {} : { body }),
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      });
      if (response.status === 401 && token !== undefined && attempt === 0) {
        // NOTE: a token can be revoked or expire early (clock skew, a Keystone key
        // rotation); one fresh authentication is worth a try, a second 401 is real.
        auth?.invalidate(token);
        continue;
      }
      const requestId = requestIdOf(response.headers);
      if (
        response.status >= 400 ||
        (response.status >= 300 && !(options.accept ?? []).includes(response.status))
      ) {
        const parsed = parseErrorBody(text);
        throw new OpenStackApiError({
          service: this.service,
          status: response.status,
          method,
          path: stripQuery(url),
          code: parsed.code,
          detail: parsed.message,
          requestId,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')) ?? parsed.retryAfterMs,
        });
      }
      let parsedBody: unknown = undefined;
      if (text !== '') {
        const type = response.headers.get('content-type') ?? '';
        if (type.includes('json') || /^\s*[{[]/.test(text)) {
          try {
            parsedBody = JSON.parse(text);
          } catch (error) {
            throw new OpenStackClientError(
              `${this.service} ${method} ${stripQuery(url)}: response is not valid JSON`,
              this.service,
              { cause: error },
            );
          }
        } else parsedBody = text;
      }
      if (options.schema !== undefined) {
        const result = options.schema.safeParse(parsedBody);
        if (!result.success)
          throw new OpenStackClientError(
            `${this.service} ${method} ${stripQuery(url)}: unexpected response shape: ${result.error.issues
              .slice(0, 3)
              .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
              .join('; ')}`,
            this.service,
          );
        return { status: response.status, headers: response.headers, body: result.data, requestId };
      }
      return {
        status: response.status,
        headers: response.headers,
        body: parsedBody as T,
        requestId,
      };
    }
  }

  /** GET returning the parsed body. */
  async get<T>(path: string, options: CallOptions<T> = {}): Promise<T> {
    return (await this.request('GET', path, options)).body;
  }

  /**
   * Every item over every page. `extract` returns a page's items and its `next` link
   * (a URL or path) if any; the next page is asked with the link's query (its
   * `marker`) on our own base URL, since services build links from their own idea of
   * their host name.
   */
  async *paginate<P, I>(
    path: string,
    options: CallOptions<P> & {
      extract: (page: P) => { items: readonly I[]; next?: string | undefined };
    },
  ): AsyncGenerator<I[], void, undefined> {
    let query: Record<string, QueryValue> = { ...options.query };
    const seen = new Set<string>();
    for (;;) {
      const page = await this.get<P>(path, { ...options, query });
      const { items, next } = options.extract(page);
      yield [...items];
      if (next === undefined || items.length === 0) return;
      const nextQuery = Object.fromEntries(
        new URL(next, 'http://placeholder').searchParams.entries(),
      );
      const key = JSON.stringify(nextQuery);
      if (seen.has(key)) return; // NOTE: a server repeating a link would loop forever.
      seen.add(key);
      query = { ...query, ...nextQuery };
    }
  }

  /** Every item over every page, collected. */
  async all<P, I>(
    path: string,
    options: CallOptions<P> & {
      extract: (page: P) => { items: readonly I[]; next?: string | undefined };
    },
  ): Promise<I[]> {
    const out: I[] = [];
    for await (const items of this.paginate(path, options)) out.push(...items);
    return out;
  }

  async #url(path: string, query: Record<string, QueryValue> | undefined): Promise<string> {
    const url = /^https?:\/\//.test(path)
      ? new URL(path)
      : new URL(`${await this.baseUrl()}${path.startsWith('/') ? '' : '/'}${path}`);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value === undefined) continue;
      if (Array.isArray(value))
        for (const v of value as readonly string[]) url.searchParams.append(key, v);
      else url.searchParams.set(key, String(value));
    }
    return url.toString();
  }
}

/**
 * A fetch over node:http(s) that trusts extra CAs or none, for clouds.yaml's `cacert`
 * and `verify: false`. Node's global fetch takes no TLS options without undici's
 * dispatcher, which Node does not export.
 */
export function tlsFetch(options: { ca?: string; insecure: boolean }): FetchLike {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
      const headers: Record<string, string> = {};
      new Headers(init.headers).forEach((value, key) => (headers[key] = value));
      const req = send(
        target,
        {
          method: init.method ?? 'GET',
          headers,
          ...(target.protocol === 'https:'
            ? {
                rejectUnauthorized: !options.insecure,
                ...(options.ca === undefined ? {} : { ca: options.ca }),
              }
            : {}),
          ...(init.signal ? { signal: init.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const out = new Headers();
            for (const [key, value] of Object.entries(res.headers)) {
              if (Array.isArray(value)) for (const v of value) out.append(key, v);
              else if (value !== undefined) out.set(key, value);
            }
            const status = res.statusCode ?? 500;
            const nullBody = status === 204 || status === 304;
            resolve(
              new Response(nullBody ? null : Buffer.concat(chunks), { status, headers: out }),
            );
          });
        },
      );
      req.on('error', reject);
      const body = init.body;
      if (typeof body === 'string' || body instanceof Uint8Array) req.end(body);
      else req.end();
    });
}
