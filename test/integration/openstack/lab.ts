/**
 * Access to the real OpenStack lab that scripts/openstack-lab/up.sh starts: its
 * clouds.yaml, providers on it, and faults injected at the transport (the request
 * really reaches the lab; only what the client then sees is changed).
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock, type Clock } from '../../../src/core/index.js';
import type { FetchLike } from '../../../src/clients/openstack/http.js';
import {
  openstack,
  type OpenStackDependencies,
  type OpenStackOptions,
} from '../../../src/providers/openstack/index.js';

export const LAB_DIR =
  process.env.KUMO_OPENSTACK_LAB ?? resolve(import.meta.dirname, '../../../.lab/openstack');
export const CLOUDS_FILE = join(LAB_DIR, 'clouds.yaml');

/**
 * Why the lab tests cannot run, or undefined when they can. In CI (`KUMO_REQUIRE_OPENSTACK_LAB=1`)
 * a missing lab is a failure, not a skip.
 */
export function labMissing(): string | undefined {
  if (existsSync(CLOUDS_FILE)) return undefined;
  const reason = `no OpenStack lab (${CLOUDS_FILE} is missing): run scripts/openstack-lab/up.sh first`;
  if (process.env.KUMO_REQUIRE_OPENSTACK_LAB === '1') throw new Error(reason);
  return reason;
}

/** A provider on the lab, as users get it. */
export function labProvider(
  options: Partial<OpenStackOptions> = {},
  deps: OpenStackDependencies = {},
) {
  return openstack(
    {
      cloud: 'kumo-lab',
      cloudsFile: CLOUDS_FILE,
      network: 'kumo-lab-net',
      pollIntervalMs: 500,
      ...options,
    },
    { env: {}, ...deps },
  );
}

/** A clock ahead of the wall clock by a settable offset (token expiry without waiting an hour). */
export function offsetClock(): Clock & { offsetMs: number } {
  const clock = {
    offsetMs: 0,
    now: () => Date.now() + clock.offsetMs,
    schedule: (ms: number, fn: () => void) => systemClock.schedule(ms, fn),
    sleep: (ms: number, signal?: AbortSignal) => systemClock.sleep(ms, signal),
  };
  return clock;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Headers;
  readonly status: number;
}

/**
 * A fetch that records every request and can inject faults. Throttling and 5xx are
 * answered here (the lab never throttles; the same paths are covered with nock in
 * test/providers/openstack); timeout-after-create and capacity act on the real lab.
 */
export function faultyFetch(options: { colossalFlavor?: string } = {}) {
  const seen: SeenRequest[] = [];
  const state = { timeoutAfterCreate: 0, throttle: 0, transient: 0, capacity: 0 };
  const isServerCreate = (url: string, method: string) =>
    method === 'POST' && /\/servers$/.test(new URL(url).pathname);
  const fetchFn: FetchLike = async (url, init) => {
    const method = init.method ?? 'GET';
    const headers = new Headers(init.headers);
    if (state.throttle > 0) {
      state.throttle--;
      seen.push({ method, url, headers, status: 429 });
      return new Response('429 Too Many Requests', {
        status: 429,
        headers: { 'Retry-After': '1', 'Content-Type': 'text/plain' },
      });
    }
    if (state.transient > 0) {
      state.transient--;
      seen.push({ method, url, headers, status: 503 });
      return new Response('<html><body><h1>503 Service Unavailable</h1></body></html>', {
        status: 503,
        headers: { 'Content-Type': 'text/html' },
      });
    }
    let body = init.body;
    if (state.capacity > 0 && isServerCreate(url, method) && typeof body === 'string') {
      state.capacity--;
      // The real scheduler then finds no host for this flavor: a genuine NoValidHost fault.
      const parsed = JSON.parse(body);
      parsed.server.flavorRef = options.colossalFlavor ?? 'kumo.colossal';
      body = JSON.stringify(parsed);
    }
    const response = await fetch(url, { ...init, ...(body === undefined ? {} : { body }) });
    seen.push({ method, url, headers, status: response.status });
    if (state.timeoutAfterCreate > 0 && isServerCreate(url, method) && response.status < 300) {
      state.timeoutAfterCreate--;
      await response.text();
      throw new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    }
    return response;
  };
  return {
    fetch: fetchFn,
    seen,
    faults: {
      timeoutAfterCreate: () => void state.timeoutAfterCreate++,
      throttle: (n: number) => void (state.throttle += n),
      transient: (n: number) => void (state.transient += n),
      capacity: () => void state.capacity++,
    },
  };
}
