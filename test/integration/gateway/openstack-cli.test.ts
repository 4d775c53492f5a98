/**
 * The real `openstack` CLI against `kumo serve` on 127.0.0.1 over the simulated clouds
 * of examples/gateway.yaml (plus a second project, for isolation). The steps run in
 * order and build on each other, as a user's session would.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Json } from '../../gateway/harness.js';
import { json, openstack, osEnv, serve, type Cli, type Served } from './cli.js';

const PASSWORDS = {
  KUMO_GATEWAY_DEMO_PASSWORD: 'demo-Pa55word',
  KUMO_GATEWAY_OTHER_PASSWORD: 'other-Pa55word',
};
const DENIED = 'The request you have made requires authentication. (HTTP 401)';

/** examples/gateway.yaml as shipped, plus a project `other` with its own user. */
function specIn(dir: string): string {
  const doc = parseDocument(readFileSync('examples/gateway.yaml', 'utf8'));
  doc.setIn(['gateway', 'projects', 'other'], doc.createNode({ description: 'Another tenant' }));
  doc.setIn(
    ['gateway', 'users', 'other'],
    doc.createNode({ passwordEnv: 'KUMO_GATEWAY_OTHER_PASSWORD', projects: ['other'] }),
  );
  const path = join(dir, 'gateway.yaml');
  writeFileSync(path, doc.toString());
  return path;
}

let dir: string;
let gw: Served;
let demo: (...args: string[]) => Promise<Cli>;
let other: (...args: string[]) => Promise<Cli>;
const ids: Record<string, string> = {};

async function statusBecomes(name: string, want: string): Promise<Json> {
  for (let i = 0; i < 12; i++) {
    const server = json(await demo('server', 'show', name, '-f', 'json'));
    if (server.status === want) return server;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`server ${name} did not become ${want}`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-gateway-cli-'));
  gw = await serve(specIn(dir), PASSWORDS);
  demo = (...args) =>
    openstack(osEnv(gw.url, 'demo', PASSWORDS.KUMO_GATEWAY_DEMO_PASSWORD, 'demo'), dir, ...args);
  other = (...args) =>
    openstack(osEnv(gw.url, 'other', PASSWORDS.KUMO_GATEWAY_OTHER_PASSWORD, 'other'), dir, ...args);
});

afterAll(async () => {
  const code = await gw?.stop();
  rmSync(dir, { recursive: true, force: true });
  expect(code, 'kumo serve exits cleanly on SIGTERM').toBe(0);
});

describe('the openstack CLI against kumo serve', () => {
  it('issues a token', async () => {
    const token = json(await demo('token', 'issue', '-f', 'json'));
    expect(token.id).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    expect(token.project_id).toMatch(/^[0-9a-f]{32}$/);
    expect(Date.parse(token.expires)).toBeGreaterThan(Date.now());
  });

  it('lists the catalog: identity, compute, network and image on the gateway', async () => {
    const catalog = json(await demo('catalog', 'list', '-f', 'json'));
    const types = catalog.map((s: Json) => s.Type).sort();
    expect(types).toEqual(['compute', 'identity', 'image', 'network']);
    const compute = catalog.find((s: Json) => s.Type === 'compute');
    expect(JSON.stringify(compute.Endpoints)).toContain(`${gw.url}/compute/v2.1`);
  });

  it('lists flavors derived from the providers’ sizes', async () => {
    const flavors = json(await demo('flavor', 'list', '-f', 'json'));
    expect(flavors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Name: '2vcpu-8gib', RAM: 8192, VCPUs: 2 }),
      ]),
    );
  });

  it('lists images', async () => {
    const images = json(await demo('image', 'list', '-f', 'json'));
    expect(images.map((i: Json) => i.Name)).toEqual(
      expect.arrayContaining(['ubuntu-22.04', 'debian-12']),
    );
  });

  it('lists an availability zone per provider zone', async () => {
    const zones = json(await demo('availability', 'zone', 'list', '--compute', '-f', 'json'));
    expect(zones.map((z: Json) => z['Zone Name'])).toEqual(
      expect.arrayContaining([
        'onprem:dc-1a',
        'onprem:dc-1b',
        'cloud:sim-east-1a',
        'cloud:sim-east-1b',
        'cloud:sim-east-1c',
      ]),
    );
  });

  it('creates a network and a subnet', async () => {
    const net = json(await demo('network', 'create', 'net1', '-f', 'json'));
    expect(net).toMatchObject({ name: 'net1', status: 'ACTIVE' });
    const subnet = json(
      await demo(
        'subnet',
        'create',
        '--network',
        'net1',
        '--subnet-range',
        '10.20.0.0/24',
        'sub1',
        '-f',
        'json',
      ),
    );
    expect(subnet).toMatchObject({
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.1',
      network_id: net.id,
    });
  });

  it('creates a security group with a rule', async () => {
    const group = json(await demo('security', 'group', 'create', 'web', '-f', 'json'));
    const rule = json(
      await demo(
        'security',
        'group',
        'rule',
        'create',
        '--protocol',
        'tcp',
        '--dst-port',
        '22',
        'web',
        '-f',
        'json',
      ),
    );
    expect(rule).toMatchObject({
      security_group_id: group.id,
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      direction: 'ingress',
    });
  });

  it('creates a server, waiting until ACTIVE, where --availability-zone says', async () => {
    const server = json(
      await demo(
        'server',
        'create',
        '--flavor',
        '2vcpu-8gib',
        '--image',
        'ubuntu-22.04',
        '--network',
        'net1',
        '--security-group',
        'web',
        '--availability-zone',
        'cloud:sim-east-1b',
        '--wait',
        'vm1',
        '-f',
        'json',
      ),
    );
    ids['vm1'] = server.id;
    expect(server).toMatchObject({
      name: 'vm1',
      status: 'ACTIVE',
      'OS-EXT-AZ:availability_zone': 'cloud:sim-east-1b',
      flavor: expect.stringContaining('2vcpu-8gib'),
      image: expect.stringContaining('ubuntu-22.04'),
    });
    expect(JSON.stringify(server.addresses)).toContain('net1');
  });

  it('puts a server on the other provider by naming it alone', async () => {
    const server = json(
      await demo(
        'server',
        'create',
        '--flavor',
        '2vcpu-4gib',
        '--image',
        'debian-12',
        '--network',
        'net1',
        '--availability-zone',
        'onprem',
        '--wait',
        'vm2',
        '-f',
        'json',
      ),
    );
    expect(server.status).toBe('ACTIVE');
    expect(server['OS-EXT-AZ:availability_zone']).toMatch(/^onprem:dc-1[ab]$/);
  });

  it('lists and shows servers', async () => {
    const list = json(await demo('server', 'list', '-f', 'json'));
    expect(list.map((s: Json) => [s.Name, s.Status]).sort()).toEqual([
      ['vm1', 'ACTIVE'],
      ['vm2', 'ACTIVE'],
    ]);
    const shown = json(await demo('server', 'show', 'vm1', '-f', 'json'));
    expect(shown).toMatchObject({
      id: ids['vm1'],
      status: 'ACTIVE',
      'OS-EXT-STS:vm_state': 'active',
      security_groups: expect.anything(),
    });
  });

  it('stops and starts a server', async () => {
    expect((await demo('server', 'stop', 'vm1')).code).toBe(0);
    // 4 is Nova's SHUTDOWN power state.
    expect((await statusBecomes('vm1', 'SHUTOFF'))['OS-EXT-STS:power_state']).toBe(4);
    expect((await demo('server', 'start', 'vm1')).code).toBe(0);
    await statusBecomes('vm1', 'ACTIVE');
  });

  it('refuses a wrong password as OpenStack clients expect', async () => {
    const res = await openstack(
      osEnv(gw.url, 'demo', 'not-the-password', 'demo'),
      dir,
      'server',
      'list',
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(DENIED);
  });

  it('refuses a revoked token', async () => {
    const token = json(await demo('token', 'issue', '-f', 'json')).id as string;
    expect((await demo('token', 'revoke', token)).code).toBe(0);
    const res = await openstack(
      {
        OS_AUTH_URL: `${gw.url}/v3`,
        OS_AUTH_TYPE: 'token',
        OS_TOKEN: token,
        OS_PROJECT_NAME: 'demo',
        OS_PROJECT_DOMAIN_NAME: 'Default',
        OS_IDENTITY_API_VERSION: '3',
      },
      dir,
      'server',
      'list',
    );
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain(DENIED);
  });

  it('keeps projects apart: another project sees and touches none of demo’s servers and networks', async () => {
    expect(json(await other('server', 'list', '-f', 'json'))).toEqual([]);
    expect(json(await other('network', 'list', '-f', 'json'))).toEqual([]);
    const show = await other('server', 'show', ids['vm1']!);
    expect(show.code).not.toBe(0);
    expect(show.stderr).toMatch(/No server with a name or ID of/);
    const del = await other('server', 'delete', ids['vm1']!);
    expect(del.code).not.toBe(0);
    expect((await statusBecomes('vm1', 'ACTIVE')).id).toBe(ids['vm1']);
  });

  it('deletes servers', async () => {
    expect((await demo('server', 'delete', '--wait', 'vm1', 'vm2')).code).toBe(0);
    expect(json(await demo('server', 'list', '-f', 'json'))).toEqual([]);
  });
});

describe('an expired token', () => {
  it('is refused as OpenStack clients expect', async () => {
    const short = mkdtempSync(join(tmpdir(), 'kumo-gateway-ttl-'));
    const served = await serve(specIn(short), PASSWORDS, ['--token-ttl', '2']);
    try {
      const env = osEnv(served.url, 'demo', PASSWORDS.KUMO_GATEWAY_DEMO_PASSWORD, 'demo');
      const token = json(await openstack(env, short, 'token', 'issue', '-f', 'json')).id as string;
      await new Promise((r) => setTimeout(r, 2500));
      const res = await openstack(
        {
          OS_AUTH_URL: `${served.url}/v3`,
          OS_AUTH_TYPE: 'token',
          OS_TOKEN: token,
          OS_PROJECT_NAME: 'demo',
          OS_PROJECT_DOMAIN_NAME: 'Default',
          OS_IDENTITY_API_VERSION: '3',
        },
        short,
        'server',
        'list',
      );
      expect(res.code).not.toBe(0);
      expect(res.stderr).toContain(DENIED);
    } finally {
      expect(await served.stop()).toBe(0);
      rmSync(short, { recursive: true, force: true });
    }
  });
});
