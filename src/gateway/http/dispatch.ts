/**
 * One HTTP request, start to end: find the service by path prefix, read the body
 * (bounded), check the token (every route but discovery and token creation), take the
 * compute microversion, run the route, and answer in the service's own error shape
 * with OpenStack's request-id headers.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../../core/index.js';
import type { GatewayContext } from '../context.js';
import {
  formatVersion,
  negotiate,
  versionHeaders,
  type Microversion,
} from '../compute/microversion.js';
import { newUuid } from '../ids.js';
import type { AuthContext } from '../identity/token-store.js';
import { errorBody, HttpError, toHttpError, unauthorized, type Service } from './errors.js';
import type { GatewayRequest, GatewayResponse, Router } from './router.js';

/** Largest request body accepted (user_data is at most 64 KiB, base64 makes it ~88). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface Mount {
  /** Path prefix (`/compute`), or '' for the identity service at the root. */
  readonly prefix: string;
  readonly service: Service;
  readonly router: Router;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // The rest is read and dropped, not cut off: a reset socket would reach the
        // client as a network error instead of this answer (sent with Connection: close).
        req.off('data', onData);
        req.resume();
        reject(
          new HttpError(413, `Request body is larger than ${MAX_BODY_BYTES} bytes.`, {
            headers: { Connection: 'close' },
          }),
        );
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function pick(mounts: readonly Mount[], path: string): { mount: Mount; rest: string } | undefined {
  for (const mount of mounts) {
    if (mount.prefix === '') continue;
    if (path === mount.prefix || path.startsWith(`${mount.prefix}/`))
      return { mount, rest: path.slice(mount.prefix.length) || '/' };
  }
  const root = mounts.find((m) => m.prefix === '');
  return root === undefined ? undefined : { mount: root, rest: path };
}

function tokenOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-auth-token'];
  const value = Array.isArray(header) ? header[0] : header;
  return value === undefined || value === '' ? undefined : value;
}

/** Handles one request against `mounts`; never throws (every failure is an HTTP answer). */
export async function dispatch(
  ctx: GatewayContext,
  mounts: readonly Mount[],
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const started = ctx.clock.now();
  const requestId = `req-${newUuid()}`;
  const url = parseUrl(req.url);
  const path = url === undefined ? (req.url ?? '/') : url.pathname.replace(/\/+$/, '') || '/';
  const method = (req.method ?? 'GET').toUpperCase();
  const target = pick(mounts, path);
  const service: Service = target?.mount.service ?? 'identity';
  let microversion: Microversion | undefined;
  let status = 500;
  const headers: Record<string, string> = { 'X-OpenStack-Request-ID': requestId };
  if (service === 'compute') headers['X-Compute-Request-Id'] = requestId;
  try {
    // Node's parser lets through targets (`//[`) that URL refuses: bad input, not a crash.
    if (url === undefined) throw new HttpError(400, 'The request URL is malformed.');
    if (target === undefined) throw new HttpError(404, 'The resource could not be found.');
    const rawBody = await readBody(req);
    const match = target.mount.router.match(method, target.rest);
    if (match.kind === 'none') throw new HttpError(404, 'The resource could not be found.');
    if (match.kind === 'method')
      throw new HttpError(405, `The method ${method} is not allowed for this resource.`, {
        headers: { Allow: match.allowed.join(', ') },
      });
    if (service === 'compute' && target.rest !== '/' && target.rest !== '/v2.1') {
      microversion = negotiate(req.headers);
      Object.assign(headers, versionHeaders(microversion));
    }
    let auth: AuthContext | undefined;
    const token = tokenOf(req);
    if (!match.public || token !== undefined) {
      auth = token === undefined ? undefined : ctx.tokens.validate(token);
      if (auth === undefined && !match.public) throw unauthorized();
    }
    const request: GatewayRequest = {
      method,
      path: target.rest,
      query: url.searchParams,
      headers: req.headers,
      params: match.params,
      requestId,
      remoteAddress: req.socket.remoteAddress ?? 'unknown',
      rawBody,
      auth,
      microversion,
    };
    const response: GatewayResponse = await match.handler(request);
    status = response.status;
    send(res, method, response.status, { ...headers, ...response.headers }, response.body);
  } catch (err) {
    const error = toHttpError(err);
    status = error.status;
    if (error.status >= 500) ctx.log(`${requestId} ${method} ${path} failed: ${errorMessage(err)}`);
    const extra: Record<string, string> = { ...error.headers };
    if (error.status === 401) extra['WWW-Authenticate'] = `Keystone uri="${ctx.baseUrl()}/v3"`;
    if (
      service === 'compute' &&
      microversion === undefined &&
      error.status !== 400 &&
      error.status !== 406
    ) {
      // Errors before negotiation still say a version, as Nova does.
      try {
        Object.assign(extra, versionHeaders(negotiate(req.headers)));
      } catch {
        // NOTE: the version itself was bad; the answer says so and names no version.
      }
    }
    send(res, method, error.status, { ...headers, ...extra }, errorBody(service, error));
  } finally {
    const v = microversion === undefined ? '' : ` compute ${formatVersion(microversion)}`;
    ctx.log(`${requestId} ${method} ${path} ${status} ${ctx.clock.now() - started}ms${v}`);
  }
}

function parseUrl(target: string | undefined): URL | undefined {
  try {
    return new URL(target ?? '/', 'http://gateway');
  } catch {
    return undefined;
  }
}

function send(
  res: ServerResponse,
  method: string,
  status: number,
  headers: Record<string, string>,
  body: unknown,
): void {
  if (res.headersSent) return;
  const text = body === undefined || status === 204 ? '' : JSON.stringify(body);
  res.writeHead(status, {
    ...headers,
    ...(text === '' ? {} : { 'Content-Type': 'application/json' }),
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(method === 'HEAD' ? undefined : text);
}
