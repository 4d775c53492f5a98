/**
 * A small route table: `METHOD /path/:param` → handler. Enough for the gateway's few
 * dozen routes without a framework; tells "no such path" (404) from "path exists, not
 * with this method" (405).
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { toIssues } from '../../core/index.js';
import { badRequest } from './errors.js';
import type { AuthContext } from '../identity/token-store.js';

/** One request as a handler sees it. */
export interface GatewayRequest {
  readonly method: string;
  /** The path below the service's prefix (`/servers/abc`), without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  readonly params: Readonly<Record<string, string>>;
  readonly requestId: string;
  readonly remoteAddress: string;
  /** The raw body (empty when none was sent). */
  readonly rawBody: Buffer;
  /** The token's identity; set on every route but discovery and token creation. */
  readonly auth: AuthContext | undefined;
  /** The compute microversion asked for (compute routes only). */
  readonly microversion: { major: number; minor: number } | undefined;
}

export interface GatewayResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handler = (req: GatewayRequest) => Promise<GatewayResponse> | GatewayResponse;

export interface RouteOptions {
  /** Needs no token (version discovery, token creation). */
  readonly public?: boolean;
}

interface Route {
  readonly method: string;
  readonly parts: readonly string[];
  readonly handler: Handler;
  readonly public: boolean;
}

export type RouteMatch =
  | {
      readonly kind: 'found';
      readonly handler: Handler;
      readonly params: Record<string, string>;
      readonly public: boolean;
    }
  | { readonly kind: 'method'; readonly allowed: readonly string[] }
  | { readonly kind: 'none' };

const split = (path: string): string[] => path.split('/').filter((p) => p !== '');

export class Router {
  readonly #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler, options: RouteOptions = {}): this {
    this.#routes.push({ method, parts: split(pattern), handler, public: options.public === true });
    return this;
  }

  match(method: string, path: string): RouteMatch {
    const parts = split(path);
    const allowed: string[] = [];
    for (const route of this.#routes) {
      const params = matchParts(route.parts, parts);
      if (params === undefined) continue;
      // HEAD is answered by a GET route unless a HEAD route exists.
      if (route.method === method)
        return { kind: 'found', handler: route.handler, params, public: route.public };
      allowed.push(route.method);
    }
    if (method === 'HEAD') {
      const get = this.#routes.find(
        (r) => r.method === 'GET' && matchParts(r.parts, parts) !== undefined,
      );
      if (get !== undefined)
        return {
          kind: 'found',
          handler: get.handler,
          params: matchParts(get.parts, parts) ?? {},
          public: get.public,
        };
    }
    return allowed.length > 0 ? { kind: 'method', allowed } : { kind: 'none' };
  }
}

function matchParts(
  pattern: readonly string[],
  parts: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const v = parts[i]!;
    if (p.startsWith(':')) {
      try {
        params[p.slice(1)] = decodeURIComponent(v);
      } catch {
        return undefined;
      }
    } else if (p !== v) return undefined;
  }
  return params;
}

/** The request's JSON body; a 400 naming the problem when it is missing or not JSON. */
export function jsonBody(req: GatewayRequest): unknown {
  if (req.rawBody.length === 0)
    throw badRequest('The request body is empty; a JSON body is required.');
  try {
    return JSON.parse(req.rawBody.toString('utf8')) as unknown;
  } catch {
    throw badRequest('Malformed request body: it is not valid JSON.');
  }
}

/** Parses the JSON body with `schema`; a 400 naming each field at fault and why. */
export function parseBody<S extends z.ZodType>(
  req: GatewayRequest,
  schema: S,
  type?: string,
): z.output<S> {
  const result = schema.safeParse(jsonBody(req));
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  throw badRequest(
    `Invalid input for field/attribute ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    type,
  );
}

/** The named param (routes declare it, so it is always there). */
export function param(req: GatewayRequest, name: string): string {
  const value = req.params[name];
  if (value === undefined) throw new Error(`route has no :${name}`);
  return value;
}
