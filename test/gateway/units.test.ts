/** The gateway's pure mappings, one behaviour each. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { SizeSchema, VirtualClock } from '../../src/core/index.js';
import { flavorName, flavorsFromSizes } from '../../src/gateway/compute/flavors.js';
import { checkPublicKey } from '../../src/gateway/compute/keypairs.js';
import { nameFilter } from '../../src/gateway/compute/name-filter.js';
import { atLeast, negotiate } from '../../src/gateway/compute/microversion.js';
import { novaState } from '../../src/gateway/compute/server-view.js';
import { placeInZone, zonesFromSizes } from '../../src/gateway/compute/zones.js';
import { errorBody, HttpError, toHttpError } from '../../src/gateway/http/errors.js';
import { LoginThrottle } from '../../src/gateway/identity/login-throttle.js';
import { hashPassword, verifyPassword } from '../../src/gateway/identity/passwords.js';
import { TokenStore } from '../../src/gateway/identity/token-store.js';
import {
  coveringCidr,
  subnetDefaults,
  toFirewallRules,
} from '../../src/gateway/network/firewall.js';
import { NotFound, QuotaExceeded } from '../../src/core/index.js';
import type { ServerObject, RuleObject } from '../../src/gateway/state/gateway-store.js';
import type { AdHocMachine } from '../../src/logical-dc/ad-hoc-machines.js';

const size = (
  name: string,
  provider: string,
  cpus: number,
  memoryMiB: number,
  zones: string[] = [],
  gpus = 0,
) => SizeSchema.parse({ name, provider, resources: { cpus, memoryMiB, gpus }, zones });

describe('flavors', () => {
  it('names a flavor after its shape', () => {
    expect(flavorName({ cpus: 2, memoryMiB: 8192, gpus: 0, diskGiB: 0, arch: 'x86_64' })).toBe(
      '2vcpu-8gib',
    );
    expect(flavorName({ cpus: 1, memoryMiB: 512, gpus: 0, diskGiB: 20, arch: 'arm64' })).toBe(
      '1vcpu-512mib-20gb-disk-arm64',
    );
    expect(flavorName({ cpus: 4, memoryMiB: 16384, gpus: 1, diskGiB: 0, arch: 'x86_64' })).toBe(
      '4vcpu-16gib-1gpu',
    );
  });

  it('makes one flavor per shape across providers, smallest first, remembering who offers it', () => {
    const flavors = flavorsFromSizes([
      size('m5.xlarge', 'aws', 4, 16384),
      size('std-2x8', 'sim', 2, 8192),
      size('e2-standard-4', 'gcp', 4, 16384),
    ]);
    expect(flavors.map((f) => f.name)).toEqual(['2vcpu-8gib', '4vcpu-16gib']);
    expect(flavors[1]!.offeredBy).toEqual([
      { provider: 'aws', size: 'm5.xlarge' },
      { provider: 'gcp', size: 'e2-standard-4' },
    ]);
  });

  it('gives a shape the same id whatever offers it', () => {
    const a = flavorsFromSizes([size('std-2x8', 'sim', 2, 8192)]);
    const b = flavorsFromSizes([size('m5.large', 'aws', 2, 8192)]);
    expect(a[0]!.id).toBe(b[0]!.id);
    expect(a[0]!.id).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });
});

describe('availability zones', () => {
  const zones = zonesFromSizes(
    new Map([
      ['onprem', [size('a', 'onprem', 2, 4096, ['dc-1a', 'dc-1b'])]],
      ['metal', [size('b', 'metal', 8, 32768)]],
    ]),
  );

  it('are one per provider zone, or the provider alone when its sizes name no zone', () => {
    expect(zones.map((z) => z.name)).toEqual(['metal', 'onprem:dc-1a', 'onprem:dc-1b']);
  });

  it('place a server by provider:zone, by provider alone, or by the default', () => {
    expect(placeInZone('onprem:dc-1b', zones, 'metal')).toEqual({
      provider: 'onprem',
      zone: 'dc-1b',
      name: 'onprem:dc-1b',
    });
    expect(placeInZone('onprem', zones, 'metal')).toEqual({
      provider: 'onprem',
      zone: undefined,
      name: 'onprem',
    });
    expect(placeInZone(undefined, zones, 'metal')).toEqual({
      provider: 'metal',
      zone: undefined,
      name: 'metal',
    });
  });

  it('refuse an unknown zone with a 400 that lists the zones', () => {
    expect(() => placeInZone('mars', zones, 'metal')).toThrow(
      /"mars".*metal, onprem, onprem:dc-1a/,
    );
  });
});

describe('microversions', () => {
  it('default to 2.1 and read both headers', () => {
    expect(negotiate({})).toEqual({ major: 2, minor: 1 });
    expect(negotiate({ 'openstack-api-version': 'compute 2.26' })).toEqual({ major: 2, minor: 26 });
    expect(negotiate({ 'x-openstack-nova-api-version': '2.9' })).toEqual({ major: 2, minor: 9 });
  });

  it('ignore another service’s version in OpenStack-API-Version', () => {
    expect(negotiate({ 'openstack-api-version': 'volume 3.50' })).toEqual({ major: 2, minor: 1 });
  });

  it('refuse a malformed version with 400 and one out of range with 406', () => {
    expect(() => negotiate({ 'openstack-api-version': 'compute two' })).toThrow(
      expect.objectContaining({ status: 400 }),
    );
    expect(() => negotiate({ 'openstack-api-version': 'compute 2.39' })).toThrow(
      expect.objectContaining({ status: 406 }),
    );
  });

  it('compare by minor version', () => {
    expect(atLeast({ major: 2, minor: 37 }, 37)).toBe(true);
    expect(atLeast({ major: 2, minor: 10 }, 9)).toBe(true);
    expect(atLeast({ major: 2, minor: 8 }, 9)).toBe(false);
  });
});

describe('server status', () => {
  const server: ServerObject = {
    id: 's',
    projectId: 'p',
    userId: 'u',
    name: 'n',
    description: null,
    flavorId: 'f',
    imageId: 'i',
    availabilityZone: 'onprem',
    networkId: null,
    securityGroupIds: [],
    keyName: null,
    metadata: {},
    hasUserData: false,
    createdAt: '2026-01-01T00:00:00.000Z',
    updatedAt: '2026-01-01T00:00:00.000Z',
    launchedAt: null,
    deletedAt: null,
    fault: null,
  };
  const machine = (
    state: AdHocMachine['state'],
    status: AdHocMachine['status'] = 'present',
  ): AdHocMachine => ({
    id: 'm',
    providerId: 'x',
    provider: 'onprem',
    region: 'r',
    zone: 'z',
    size: 's',
    resources: { cpus: 1, memoryMiB: 1, gpus: 0, diskGiB: 0 },
    image: 'i',
    state,
    spot: false,
    addresses: [],
    labels: {},
    createdAt: '',
    pool: 'adhoc.p',
    status,
    adopted: false,
    key: 's',
  });
  const row = (s: ServerObject, m: AdHocMachine | undefined) => {
    const n = novaState(s, m);
    return [n.status, n.vmState, n.taskState, n.powerState];
  };

  it('is BUILD until the machine exists and while it first boots', () => {
    expect(row(server, undefined)).toEqual(['BUILD', 'building', 'scheduling', 0]);
    expect(row(server, machine('pending'))).toEqual(['BUILD', 'building', 'spawning', 0]);
  });

  it('is ACTIVE when running, powering off while stopping, SHUTOFF when stopped', () => {
    expect(row(server, machine('running'))).toEqual(['ACTIVE', 'active', null, 1]);
    expect(row(server, machine('stopping'))).toEqual(['ACTIVE', 'active', 'powering-off', 1]);
    expect(row(server, machine('stopped'))).toEqual(['SHUTOFF', 'stopped', null, 4]);
  });

  it('is SHUTOFF powering on while a launched machine starts again', () => {
    expect(row({ ...server, launchedAt: '2026-01-01T00:00:01.000Z' }, machine('pending'))).toEqual([
      'SHUTOFF',
      'stopped',
      'powering-on',
      4,
    ]);
  });

  it('is ERROR with a fault when the create was refused, the machine failed, or it is gone', () => {
    expect(
      novaState(
        { ...server, fault: { code: 500, message: 'No valid host', created: 'x' } },
        undefined,
      ).fault?.message,
    ).toBe('No valid host');
    expect(novaState(server, { ...machine('error'), error: 'disk full' }).fault?.message).toBe(
      'disk full',
    );
    expect(novaState(server, machine('running', 'lost'))).toMatchObject({
      status: 'ERROR',
      fault: { message: 'The machine is gone from provider onprem.' },
    });
  });

  it('keeps its status with task_state deleting once a delete was asked', () => {
    expect(row({ ...server, deletedAt: 'x' }, machine('running'))).toEqual([
      'ACTIVE',
      'active',
      'deleting',
      1,
    ]);
  });
});

describe('security group rules as firewall rules', () => {
  const rule = (r: Partial<RuleObject>): RuleObject => ({
    id: 'r',
    projectId: 'p',
    securityGroupId: 'g',
    direction: 'ingress',
    ethertype: 'IPv4',
    protocol: 'tcp',
    portRangeMin: null,
    portRangeMax: null,
    remoteIpPrefix: null,
    remoteGroupId: null,
    description: '',
    createdAt: '',
    updatedAt: '',
    revision: 0,
    ...r,
  });

  it('keep protocol, ports and source', () => {
    expect(
      toFirewallRules(
        [rule({ portRangeMin: 80, portRangeMax: 81, remoteIpPrefix: '192.0.2.0/24' })],
        '10.0.0.0/24',
      ),
    ).toEqual([
      {
        direction: 'ingress',
        protocol: 'tcp',
        ports: { from: 80, to: 81 },
        cidrs: ['192.0.2.0/24'],
      },
    ]);
  });

  it('read any protocol as all, and a remote group as the network’s own range', () => {
    expect(toFirewallRules([rule({ protocol: null, remoteGroupId: 'g' })], '10.0.0.0/24')).toEqual([
      { direction: 'ingress', protocol: 'all', cidrs: ['10.0.0.0/24'] },
    ]);
  });

  it('leave out IPv6 rules and merge duplicates', () => {
    expect(
      toFirewallRules(
        [rule({ ethertype: 'IPv6' }), rule({}), rule({ id: 'other' })],
        '10.0.0.0/24',
      ),
    ).toEqual([{ direction: 'ingress', protocol: 'tcp', cidrs: ['0.0.0.0/0'] }]);
  });

  it('cover several subnets with the smallest CIDR', () => {
    expect(coveringCidr(['10.0.1.0/24', '10.0.2.0/24'])).toBe('10.0.0.0/22');
    expect(coveringCidr(['10.0.0.0/24'])).toBe('10.0.0.0/24');
  });

  it('give a subnet .1 as gateway and the rest as its pool', () => {
    expect(subnetDefaults('192.168.0.0/29')).toEqual({
      gatewayIp: '192.168.0.1',
      allocationPools: [{ start: '192.168.0.2', end: '192.168.0.6' }],
    });
  });
});

describe('the server name filter', () => {
  it('is a regular expression, as Nova’s is', () => {
    const f = nameFilter('^web-[0-9]+$');
    expect(['web-1', 'web-x', 'db-1'].filter(f)).toEqual(['web-1']);
  });

  it('matches a pattern that could backtrack for minutes as the literal text it spells', () => {
    const name = 'web-server-number-01-with-a-long-name-that-does-not-match';
    for (const pattern of [
      '(.*.*)*%00',
      '(a+)+$',
      '(x|xx)*y',
      '.*.*.*.*!',
      '(a)\\1',
      'a{1,99}b{1,99}c{1,99}',
    ])
      expect(nameFilter(pattern)(name), pattern).toBe(false);
    expect(nameFilter('(.*)*')('run (.*)* here')).toBe(true);
  });

  it('matches an unparsable pattern as literal text', () => {
    expect(nameFilter('web[')('my-web[1]')).toBe(true);
  });
});

describe('error shapes', () => {
  const e = new HttpError(404, 'gone', { type: 'NetworkNotFound' });

  it('follow each service’s convention', () => {
    expect(errorBody('compute', e)).toEqual({ itemNotFound: { code: 404, message: 'gone' } });
    expect(errorBody('compute', new HttpError(409, 'busy'))).toEqual({
      conflictingRequest: { code: 409, message: 'busy' },
    });
    expect(errorBody('network', e)).toEqual({
      NeutronError: { type: 'NetworkNotFound', message: 'gone', detail: '' },
    });
    expect(errorBody('identity', e)).toEqual({
      error: { code: 404, title: 'Not Found', message: 'gone' },
    });
    expect(errorBody('image', e)).toEqual({
      code: '404 Not Found',
      title: 'Not Found',
      message: 'gone',
    });
  });

  it('answer 401 in Keystone’s shape for every service', () => {
    expect(errorBody('compute', new HttpError(401, 'who?'))).toEqual({
      error: { code: 401, title: 'Unauthorized', message: 'who?' },
    });
  });

  it('keep kumo’s typed errors’ messages and hide anything else behind a 500', () => {
    expect(toHttpError(new NotFound('machine m gone'))).toMatchObject({
      status: 404,
      message: 'machine m gone',
    });
    expect(toHttpError(new QuotaExceeded('vCPU quota'))).toMatchObject({ status: 403 });
    expect(toHttpError(new Error('secret internals'))).toMatchObject({
      status: 500,
      message: expect.not.stringContaining('secret'),
    });
  });
});

describe('passwords', () => {
  const cheap = { N: 1024, r: 8, p: 1 };

  it('verify only the password they were made from', async () => {
    const stored = await hashPassword('correct horse', cheap);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct hose', stored)).toBe(false);
  });

  it('are salted: the same password hashes differently each time', async () => {
    const a = await hashPassword('same', cheap);
    const b = await hashPassword('same', cheap);
    expect(a.hash.equals(b.hash)).toBe(false);
  });

  it('do not hold the password', async () => {
    const stored = await hashPassword('plain-text-here', cheap);
    expect(inspect(stored, { depth: 5 })).not.toContain('plain-text-here');
    expect(JSON.stringify(stored)).not.toContain('plain-text-here');
  });
});

describe('tokens', () => {
  const who = {
    user: { id: 'u', name: 'demo', domain: { id: 'default', name: 'Default' } },
    project: undefined,
    roles: [],
    methods: ['password'],
  };

  it('are valid until they expire', async () => {
    const clock = new VirtualClock({ start: 0 });
    const store = new TokenStore(clock);
    const { token } = store.issue(who, 1000);
    expect(store.validate(token)?.user.name).toBe('demo');
    await clock.advance(1000);
    expect(store.validate(token)).toBeUndefined();
  });

  it('never start with "-", so a command line does not take one for an option', () => {
    const store = new TokenStore(new VirtualClock({ start: 0 }));
    // Random base64url starts with "-" one time in 64: 500 tokens all but surely show it.
    for (let i = 0; i < 500; i++) expect(store.issue(who, 1000).token).toMatch(/^[A-Za-z0-9]/);
  });

  it('go when revoked, with the tokens made from them', () => {
    const store = new TokenStore(new VirtualClock({ start: 0 }));
    const first = store.issue(who, 1000);
    const second = store.issue(who, 1000, first.context);
    expect(store.revoke(first.token)).toBe(true);
    expect(store.validate(second.token)).toBeUndefined();
    expect(store.revoke(first.token)).toBe(false);
  });

  it('go when revoked with every token made from them at any depth, and only those', () => {
    const store = new TokenStore(new VirtualClock({ start: 0 }));
    const a = store.issue(who, 1000);
    const b = store.issue(who, 1000, a.context);
    const c = store.issue(who, 1000, b.context);
    // Keystone's shape: a token's own audit id, then its chain's first.
    expect(c.context.auditIds).toEqual([c.context.auditIds[0], a.context.auditIds[0]]);
    expect(store.revoke(b.token)).toBe(true);
    expect(store.validate(c.token)).toBeUndefined();
    expect(store.validate(a.token)).toBeDefined();
    const d = store.issue(who, 1000, store.issue(who, 1000, a.context).context);
    expect(store.revoke(a.token)).toBe(true);
    expect(store.validate(d.token)).toBeUndefined();
  });

  it('are kept only as digests', () => {
    const store = new TokenStore(new VirtualClock({ start: 0 }));
    const { token } = store.issue(who, 1000);
    expect(inspect(store, { depth: 5, showHidden: true })).not.toContain(token);
  });
});

describe('login throttling', () => {
  it('locks a user after the limit within the window, then lets them in after the lockout', async () => {
    const clock = new VirtualClock({ start: 0 });
    const t = new LoginThrottle({ maxFailures: 2, windowMs: 10_000, lockoutMs: 5000, clock });
    t.failed('demo', '127.0.0.1');
    expect(t.retryAfterMs('demo', '127.0.0.1')).toBe(0);
    t.failed('demo', '127.0.0.1');
    expect(t.retryAfterMs('demo', '127.0.0.1')).toBe(5000);
    await clock.advance(5000);
    expect(t.retryAfterMs('demo', '127.0.0.1')).toBe(0);
  });

  it('forgets failures older than the window', async () => {
    const clock = new VirtualClock({ start: 0 });
    const t = new LoginThrottle({ maxFailures: 2, windowMs: 1000, lockoutMs: 5000, clock });
    t.failed('demo', 'a');
    await clock.advance(1001);
    t.failed('demo', 'a');
    expect(t.retryAfterMs('demo', 'a')).toBe(0);
  });

  it('locks an address that tries many user names', () => {
    const t = new LoginThrottle({
      maxFailures: 2,
      windowMs: 10_000,
      lockoutMs: 5000,
      addressFactor: 2,
      clock: new VirtualClock({ start: 0 }),
    });
    for (const user of ['a', 'b', 'c', 'd']) t.failed(user, '10.0.0.9');
    expect(t.retryAfterMs('fresh-name', '10.0.0.9')).toBe(5000);
    expect(t.retryAfterMs('fresh-name', '10.0.0.10')).toBe(0);
  });
});

describe('public keys', () => {
  it('refuse a key whose blob does not match its type', () => {
    const ed = 'AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9CDdE5W9wDv3Y9W0dLfXJ0u8';
    expect(() => checkPublicKey(`ssh-rsa ${ed}`)).toThrow(/Keypair data is invalid/);
    expect(checkPublicKey(`ssh-ed25519 ${ed}   me@host `).publicKey).toBe(
      `ssh-ed25519 ${ed} me@host`,
    );
  });
});
