/**
 * OpenStack-specific behaviour against the real lab (scripts/openstack-lab/up.sh):
 * microversions, pagination, re-authentication, faults, quotas, key pairs and user
 * data, networks with routers, domain-scoped tokens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { TAG_DC, TAG_KEY, waitUntil, type Machine } from '../../../src/core/index.js';
import { HttpTransport } from '../../../src/clients/openstack/http.js';
import { KeystoneSession } from '../../../src/clients/openstack/keystone.js';
import { resolveOpenStackConfig } from '../../../src/providers/openstack/index.js';
import { CLOUDS_FILE, faultyFetch, labMissing, labProvider, offsetClock } from './lab.js';
import { caught } from '../../support/caught.js';

const missing = labMissing();
const dc = `os-${randomBytes(3).toString('hex')}`;
const small = { cpus: 1, memoryMiB: 512 };
let seq = 0;
const request = (extra: Record<string, unknown> = {}) => {
  seq += 1;
  return {
    spec: { resources: small, image: 'ubuntu-22.04' },
    count: 1,
    idempotencyKey: `${dc}-${seq}`,
    dc,
    pool: `q${seq}`,
    ...extra,
  };
};

/** A real, fresh ed25519 public key in OpenSSH form (Nova checks keys it imports). */
function openSshEd25519Key(): string {
  const raw = generateKeyPairSync('ed25519')
    .publicKey.export({ format: 'der', type: 'spki' })
    .subarray(-32);
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} kumo-test`;
}

describe.skipIf(missing !== undefined)(
  `openstack lab specifics${missing ? ` — skipped: ${missing}` : ''}`,
  () => {
    const cleanup = labProvider();
    afterAll(async () => {
      const left = await cleanup.listMachines({
        labels: { [TAG_DC]: dc },
        states: ['pending', 'running', 'stopping', 'stopped', 'error'],
      });
      await cleanup.deleteMachines(left.map((m) => m.providerId));
      await cleanup.deleteNetwork(`${dc}-net`);
    }, 600_000);

    it('negotiates compute 2.79 with a 2.93 Nova and sends it on every Nova call', async () => {
      const transport = faultyFetch();
      const provider = labProvider({}, { fetch: transport.fetch });
      expect(await provider.clients.nova.microversion()).toBe('2.79');
      await provider.listSizes();
      await provider.listMachines({ labels: { [TAG_DC]: dc } });
      const novaCalls = transport.seen.filter(
        (r) => r.url.includes(':8774/v2.1/') && !r.url.endsWith(':8774/v2.1/'),
      );
      expect(novaCalls.length).toBeGreaterThan(1);
      for (const r of novaCalls)
        expect(r.headers.get('OpenStack-API-Version')).toBe('compute 2.79');
    });

    it('works at microversion 2.1 too (flavors by reference, no networks: none)', async () => {
      const provider = labProvider({ computeMicroversion: '2.1' });
      expect(await provider.clients.nova.microversion()).toBe('2.1');
      const [m] = await provider.createMachines(request());
      expect(m).toMatchObject({ state: 'running', size: 'kumo.small' });
      expect(m!.resources).toMatchObject({ cpus: 1, memoryMiB: 1024 });
      await provider.deleteMachines([m!.providerId]);
    });

    it('lists servers over more than one page', async () => {
      const transport = faultyFetch();
      const provider = labProvider({ pageSize: 2 }, { fetch: transport.fetch });
      const req = request({ count: 5 });
      const made = await provider.createMachines(req);
      const before = transport.seen.length;
      const listed = await provider.listMachines({ labels: { [TAG_KEY]: req.idempotencyKey } });
      expect(listed.map((m) => m.providerId).sort()).toEqual(made.map((m) => m.providerId).sort());
      const pages = transport.seen.slice(before).filter((r) => r.url.includes('/servers/detail'));
      expect(pages.length).toBeGreaterThanOrEqual(3);
      expect(pages.slice(1).every((r) => new URL(r.url).searchParams.has('marker'))).toBe(true);
      await provider.deleteMachines(made.map((m) => m.providerId));
    });

    it('re-authenticates when the token is about to expire', async () => {
      const clock = offsetClock();
      const provider = labProvider({}, { clock });
      await provider.listSizes();
      expect(provider.clients.session.authentications).toBe(1);
      const expiresAt = provider.clients.session.tokenInfo!.expiresAt;
      clock.offsetMs = expiresAt - Date.now() - 30_000; // 30 s before expiry: inside the margin
      await provider.listMachines({ labels: { [TAG_DC]: dc } });
      expect(provider.clients.session.authentications).toBe(2);
    });

    it('re-authenticates after Nova refuses a revoked token', async () => {
      const provider = labProvider();
      const session = provider.clients.session;
      const token = await session.token();
      // Revoke it (a token may revoke itself); Nova has never seen it, so it asks Keystone.
      const identity = (await session.endpoint('identity')).replace(/\/+$/, '');
      const revoked = await fetch(`${identity}/auth/tokens`, {
        method: 'DELETE',
        headers: { 'X-Auth-Token': token, 'X-Subject-Token': token },
      });
      expect(revoked.status).toBe(204);
      await provider.listMachines({ labels: { [TAG_DC]: dc } });
      expect(session.authentications).toBe(2);
      expect(await session.token()).not.toBe(token);
    });

    it('surfaces the ERROR fault of a server no host can take', async () => {
      const provider = labProvider();
      const [pending] = await provider.createMachines(
        request({ spec: { size: 'kumo.colossal', image: 'ubuntu-22.04' } }),
        { wait: false },
      );
      const failed: Machine = await waitUntil(
        async () => {
          const m = await provider.getMachine(pending!.providerId);
          return m.state === 'error' ? m : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 1000, what: 'the server to go to ERROR' },
      );
      expect(failed.error).toMatch(/No valid host was found/);
      await provider.deleteMachines([failed.providerId]);

      const err = await caught(
        provider.createMachines(
          request({ spec: { size: 'kumo.colossal', image: 'ubuntu-22.04' } }),
        ),
      );
      expect(err.code).toBe('InsufficientCapacity');
      expect(err.message).toMatch(/No valid host was found/);
    });

    it('gives QuotaExceeded with the compute request id when the project has no room', async () => {
      const provider = labProvider({ cloud: 'kumo-lab-noquota', network: undefined });
      const err = await caught(provider.createMachines(request()));
      expect(err.code).toBe('QuotaExceeded');
      expect(err.message).toMatch(/Quota exceeded for instances/);
      expect(err.cause).toMatchObject({ status: 403, requestId: expect.stringMatching(/^req-/) });
    });

    it("refuses a zone the lab's Nova does not list, naming the zones it has, and sizes for one it does", async () => {
      const provider = labProvider();
      const err = await caught(provider.chooseSize({ resources: small, zone: 'nowhere' }));
      expect(err).toMatchObject({
        code: 'ValidationError',
        message: 'unknown availability zone "nowhere"; zones are nova',
      });
      const create = await caught(
        provider.createMachines(
          request({ spec: { resources: small, image: 'ubuntu-22.04', zone: 'nowhere' } }),
        ),
      );
      expect(create.message).toBe(err.message);
      expect((await provider.chooseSize({ resources: small, zone: 'nova' })).resources.cpus).toBe(
        1,
      );
    });

    it('imports the SSH key once and passes user data base64-encoded', async () => {
      const provider = labProvider();
      const admin = labProvider({ cloud: 'kumo-lab-admin', network: undefined });
      const key = openSshEd25519Key();
      const userData = '#cloud-config\nruncmd: [echo kumo]\n';
      const [a, b] = await Promise.all([
        provider.createMachines(
          request({ spec: { resources: small, image: 'ubuntu-22.04', sshKeys: [key], userData } }),
        ),
        provider.createMachines(
          request({ spec: { resources: small, image: 'ubuntu-22.04', sshKeys: [key] } }),
        ),
      ]);
      const servers = await Promise.all(
        [a[0]!, b[0]!].map((m) => provider.clients.nova.findServer(m.providerId)),
      );
      expect(servers[0]!.key_name).toMatch(/^kumo-[0-9a-f]{16}$/);
      expect(servers[1]!.key_name).toBe(servers[0]!.key_name);
      const seen = await admin.clients.nova.findServer(a[0]!.providerId);
      expect(
        Buffer.from(String(seen!['OS-EXT-SRV-ATTR:user_data']), 'base64').toString('utf8'),
      ).toBe(userData);
      await provider.deleteMachines([a[0]!.providerId, b[0]!.providerId]);
      await provider.clients.nova.deleteKeypair(servers[0]!.key_name!);
    });

    it('makes a network with subnets, firewall rules and a router to the external network, and deletes it in order', async () => {
      const provider = labProvider();
      const name = `${dc}-net`;
      const spec = {
        name,
        cidr: '10.77.0.0/16',
        subnets: [{ name: 'pub', cidr: '10.77.1.0/24', public: true }],
        firewall: [
          {
            direction: 'ingress' as const,
            protocol: 'tcp' as const,
            ports: 22,
            cidrs: ['0.0.0.0/0'],
          },
          { direction: 'ingress' as const, protocol: 'icmp' as const, cidrs: ['10.0.0.0/8'] },
        ],
      };
      const net = await provider.ensureNetwork(spec, { labels: { [TAG_DC]: dc } });
      const again = await provider.ensureNetwork(spec, { labels: { [TAG_DC]: dc } });
      expect(again.id).toBe(net.id);
      expect(net.labels[TAG_DC]).toBe(dc);
      const neutron = provider.clients.neutron;
      const [router] = await neutron.list('routers', { name: `${name}-router` });
      expect(router?.external_gateway_info?.network_id).toBeDefined();
      const [group] = await neutron.list('security-groups', { name: `${name}-fw` });
      const kumoRules = group!.security_group_rules.filter((r) => r.description === 'kumo');
      expect(kumoRules).toHaveLength(2);
      const [m] = await provider.createMachines(
        request({ spec: { resources: small, image: 'ubuntu-22.04', network: name } }),
      );
      expect(m!.addresses[0]?.address).toMatch(/^10\.77\.1\./);
      expect((await caught(provider.deleteNetwork(name))).code).toBe('Conflict');
      await provider.deleteMachines([m!.providerId]);
      await waitUntil(
        async () => (await neutron.list('ports', { device_id: m!.providerId })).length === 0,
        { timeoutMs: 120_000, what: 'the server port to go' },
      );
      await provider.deleteNetwork(name);
      await provider.deleteNetwork(name);
      expect(await neutron.list('networks', { name })).toHaveLength(0);
      expect(await neutron.list('routers', { name: `${name}-router` })).toHaveLength(0);
    });

    it('authenticates with a domain-scoped token (which pkgcloud cannot)', async () => {
      // up.sh gives the lab's admin a role on the Default domain.
      const admin = resolveOpenStackConfig(
        { cloud: 'kumo-lab-admin', cloudsFile: CLOUDS_FILE },
        { env: {} },
      );
      const session = new KeystoneSession({
        transport: new HttpTransport(),
        auth: {
          type: 'password',
          authUrl: admin.auth.authUrl,
          username: admin.auth.username!,
          password: admin.auth.password!,
          userDomainName: 'Default',
          domainName: 'Default',
        },
      });
      await session.token();
      expect(session.tokenInfo).toMatchObject({ domainId: 'default', projectId: undefined });
      expect(await session.endpoint('compute')).toBe('http://127.0.0.1:8774/v2.1');
    });
  },
);
