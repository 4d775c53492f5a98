/**
 * A gateway on 127.0.0.1 (a free port) over two simulated clouds and an in-memory
 * state, with two projects (demo, other) and cheap password hashing, plus a small
 * HTTP client that speaks to it as an OpenStack client would.
 */
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { createGateway, type Gateway } from '../../src/gateway/index.js';
import { sim } from '../../src/providers/sim/index.js';
import type { Clock } from '../../src/core/index.js';
import type { GatewaySpecInput } from '../../src/logical-dc/gateway-spec.js';
import { GatewaySpecSchema } from '../../src/logical-dc/gateway-spec.js';

export const PASSWORDS = { demo: 'demo-secret-1', other: 'other-secret-2' } as const;

export const SPEC: GatewaySpecInput = {
  defaultZone: 'onprem',
  projects: { demo: { description: 'Demo project' }, other: {} },
  users: {
    demo: { passwordEnv: 'TEST_DEMO_PASSWORD', projects: ['demo'] },
    other: { passwordEnv: 'TEST_OTHER_PASSWORD', projects: ['other'] },
  },
  login: { maxFailures: 3, windowSeconds: 60, lockoutSeconds: 30 },
};

/**
 * A parsed JSON body. Tests read wire bodies field by field, as a client would, so
 * they are typed loosely on purpose (the one `any` of these tests).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Json;
}

export interface TestGateway {
  readonly url: string;
  readonly gateway: Gateway;
  readonly dc: LogicalDatacenter;
  call(
    method: string,
    path: string,
    options?: { token?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Reply>;
  /** A project-scoped token for `user` (its own project). */
  login(user?: keyof typeof PASSWORDS): Promise<string>;
  close(): Promise<void>;
}

export async function startGateway(
  options: {
    clock?: Clock;
    spec?: Partial<GatewaySpecInput>;
    statePath?: string;
    dc?: LogicalDatacenter;
  } = {},
): Promise<TestGateway> {
  const dc =
    options.dc ??
    new LogicalDatacenter({
      name: 'gw-test',
      store: memoryStore(),
      providers: {
        onprem: sim({
          name: 'onprem',
          region: 'dc-1',
          zones: ['dc-1a', 'dc-1b'],
          latency: { apiMs: 0, bootMs: 30, stopMs: 20, deleteMs: 20 },
        }),
        cloud: sim({
          name: 'cloud',
          region: 'sim-east-1',
          seed: 2,
          latency: { apiMs: 0, bootMs: 30, stopMs: 20, deleteMs: 20 },
        }),
      },
    });
  const gateway = await createGateway({
    dc,
    spec: GatewaySpecSchema.parse({ ...SPEC, ...options.spec }),
    env: { TEST_DEMO_PASSWORD: PASSWORDS.demo, TEST_OTHER_PASSWORD: PASSWORDS.other },
    scrypt: { N: 1024, r: 8, p: 1 },
    refreshMs: 0,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.statePath === undefined ? {} : { statePath: options.statePath }),
  });
  const { url } = await gateway.listen(0, '127.0.0.1');
  const call: TestGateway['call'] = async (method, path, o = {}) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        Accept: 'application/json',
        ...(o.body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(o.token === undefined ? {} : { 'X-Auth-Token': o.token }),
        ...o.headers,
      },
      ...(o.body === undefined
        ? {}
        : { body: typeof o.body === 'string' ? o.body : JSON.stringify(o.body) }),
    });
    const text = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body: text === '' ? undefined : JSON.parse(text),
    };
  };
  const login: TestGateway['login'] = async (user = 'demo') => {
    const res = await call('POST', '/v3/auth/tokens', {
      body: passwordAuth(user, PASSWORDS[user], user),
    });
    if (res.status !== 201)
      throw new Error(`login as ${user} failed: ${res.status} ${JSON.stringify(res.body)}`);
    return res.headers.get('x-subject-token')!;
  };
  return { url, gateway, dc, call, login, close: () => gateway.close() };
}

/** The body keystoneauth sends for password authentication scoped to a project. */
export function passwordAuth(user: string, password: string, project?: string): unknown {
  return {
    auth: {
      identity: {
        methods: ['password'],
        password: { user: { name: user, domain: { name: 'Default' }, password } },
      },
      ...(project === undefined
        ? {}
        : { scope: { project: { name: project, domain: { name: 'Default' } } } }),
    },
  };
}

/** Polls `probe` until it returns a value (not undefined), for at most `ms`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
