import { afterEach, describe, expect, it } from 'vitest';
import type { NetworkSpecInput, Provider } from '../../src/core/index.js';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { eventually, startGateway, type TestGateway, type Json } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const N = '/network/v2.0';

/** A provider that remembers every network it was asked to ensure. */
function recording(
  provider: Provider,
): Provider & { ensured: NetworkSpecInput[]; deleted: string[] } {
  const ensured: NetworkSpecInput[] = [];
  const deleted: string[] = [];
  return Object.assign(Object.create(provider) as Provider, {
    ensured,
    deleted,
    ensureNetwork: (spec: NetworkSpecInput, options?: Parameters<Provider['ensureNetwork']>[1]) => {
      ensured.push(spec);
      return provider.ensureNetwork(spec, options);
    },
    deleteNetwork: (name: string) => {
      deleted.push(name);
      return provider.deleteNetwork(name);
    },
  });
}

async function setup() {
  const onprem = recording(
    sim({
      name: 'onprem',
      region: 'dc-1',
      zones: ['dc-1a', 'dc-1b'],
      latency: { apiMs: 0, bootMs: 20, stopMs: 10, deleteMs: 10 },
    }),
  );
  const dc = new LogicalDatacenter({ name: 'gw-net', store: memoryStore(), providers: { onprem } });
  gw = await startGateway({ dc });
  const token = await gw.login();
  return { gw, token, onprem };
}

async function network(
  g: TestGateway,
  token: string,
  name: string,
  cidr?: string,
): Promise<{ id: string; subnet?: string }> {
  const net = await g.call('POST', `${N}/networks`, { token, body: { network: { name } } });
  if (cidr === undefined) return { id: net.body.network.id };
  const sub = await g.call('POST', `${N}/subnets`, {
    token,
    body: { subnet: { network_id: net.body.network.id, cidr, ip_version: 4, name: `${name}-sub` } },
  });
  return { id: net.body.network.id, subnet: sub.body.subnet.id };
}

describe('Neutron discovery', () => {
  it('lists v2.0 at /network', async () => {
    gw = await startGateway();
    expect((await gw.call('GET', '/network/')).body.versions).toEqual([
      { status: 'CURRENT', id: 'v2.0', links: [{ href: `${gw.url}/network/v2.0/`, rel: 'self' }] },
    ]);
  });

  it('lists the extensions whose behaviour it keeps', async () => {
    const { gw, token } = await setup();
    const aliases = (await gw.call('GET', `${N}/extensions`, { token })).body.extensions.map(
      (e: Json) => e.alias,
    );
    expect(aliases).toContain('security-group');
    expect(aliases).not.toContain('router');
  });
});

describe('networks and subnets', () => {
  it('makes a network and shows it, with its subnets, to its project', async () => {
    const { gw, token } = await setup();
    const { id, subnet } = await network(gw, token, 'net1', '10.20.0.0/24');
    const shown = (await gw.call('GET', `${N}/networks/${id}`, { token })).body.network;
    expect(shown).toMatchObject({
      id,
      name: 'net1',
      status: 'ACTIVE',
      admin_state_up: true,
      shared: false,
      subnets: [subnet],
    });
  });

  it('gives a subnet Neutron’s default gateway and allocation pool', async () => {
    const { gw, token } = await setup();
    const { subnet } = await network(gw, token, 'net1', '10.20.0.0/24');
    expect((await gw.call('GET', `${N}/subnets/${subnet}`, { token })).body.subnet).toMatchObject({
      cidr: '10.20.0.0/24',
      gateway_ip: '10.20.0.1',
      allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.254' }],
      ip_version: 4,
      enable_dhcp: true,
    });
  });

  it('filters lists by any attribute and picks fields, as Neutron does', async () => {
    const { gw, token } = await setup();
    await network(gw, token, 'a');
    const { id } = await network(gw, token, 'b');
    expect(
      (await gw.call('GET', `${N}/networks?name=b`, { token })).body.networks.map(
        (n: Json) => n.id,
      ),
    ).toEqual([id]);
    expect(
      (await gw.call('GET', `${N}/networks?name=b&fields=id&fields=name`, { token })).body.networks,
    ).toEqual([{ id, name: 'b' }]);
    expect(
      (await gw.call('GET', `${N}/networks?name=a&name=b`, { token })).body.networks,
    ).toHaveLength(2);
  });

  it('pages lists with limit and marker, linking the next page as Neutron does', async () => {
    const { gw, token } = await setup();
    for (const name of ['p1', 'p2', 'p3']) await network(gw, token, name);
    const first = await gw.call('GET', `${N}/networks?limit=2&fields=name`, { token });
    expect(first.body.networks).toHaveLength(2);
    const next: string = first.body.networks_links[0].href;
    expect(first.body.networks_links[0].rel).toBe('next');
    const rest = await gw.call('GET', next.slice(gw.url.length), { token });
    expect([...first.body.networks, ...rest.body.networks].map((n: Json) => n.name).sort()).toEqual(
      ['p1', 'p2', 'p3'],
    );
    expect(rest.body.networks_links).toBeUndefined();
    expect((await gw.call('GET', `${N}/networks?marker=nope`, { token })).status).toBe(404);
  });

  it('reads boolean filters as Neutron does: True and False as Python clients send them', async () => {
    const { gw, token } = await setup();
    await network(gw, token, 'a');
    const count = async (q: string) =>
      (await gw.call('GET', `${N}/networks?${q}`, { token })).body.networks?.length;
    expect(await count('admin_state_up=True')).toBe(1);
    expect(await count('admin_state_up=true')).toBe(1);
    expect(await count('shared=False')).toBe(1);
    expect(await count('router:external=False')).toBe(1);
    expect(await count('shared=True')).toBe(0);
    const bad = await gw.call('GET', `${N}/networks?shared=maybe`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.NeutronError.message).toMatch(/'maybe' cannot be converted to boolean/);
  });

  it('answers NeutronError NetworkNotFound for an unknown network', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('GET', `${N}/networks/nope`, { token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      NeutronError: {
        type: 'NetworkNotFound',
        message: 'Network nope could not be found.',
        detail: '',
      },
    });
  });

  it('refuses a CIDR with host bits set, naming the CIDR it should be', async () => {
    const { gw, token } = await setup();
    const { id } = await network(gw, token, 'n');
    const res = await gw.call('POST', `${N}/subnets`, {
      token,
      body: { subnet: { network_id: id, cidr: '10.0.0.5/24', ip_version: 4 } },
    });
    expect(res.status).toBe(400);
    expect(res.body.NeutronError.message).toMatch(/should be '10\.0\.0\.0\/24'/);
  });

  it('refuses overlapping subnets and IPv6', async () => {
    const { gw, token } = await setup();
    const { id } = await network(gw, token, 'n', '10.0.0.0/16');
    expect(
      (
        await gw.call('POST', `${N}/subnets`, {
          token,
          body: { subnet: { network_id: id, cidr: '10.0.1.0/24', ip_version: 4 } },
        })
      ).body.NeutronError.message,
    ).toMatch(/overlaps/);
    expect(
      (
        await gw.call('POST', `${N}/subnets`, {
          token,
          body: { subnet: { network_id: id, cidr: '10.1.0.0/24', ip_version: 6 } },
        })
      ).status,
    ).toBe(400);
  });

  it('deletes a network and its subnets', async () => {
    const { gw, token } = await setup();
    const { id, subnet } = await network(gw, token, 'n', '10.0.0.0/24');
    expect((await gw.call('DELETE', `${N}/networks/${id}`, { token })).status).toBe(204);
    expect((await gw.call('GET', `${N}/subnets/${subnet}`, { token })).status).toBe(404);
  });
});

describe('security groups', () => {
  it('gives every project a default group with Neutron’s default rules', async () => {
    const { gw, token } = await setup();
    const groups = (await gw.call('GET', `${N}/security-groups`, { token })).body.security_groups;
    expect(groups.map((g: Json) => g.name)).toEqual(['default']);
    const rules = groups[0].security_group_rules
      .map(
        (r: Json) =>
          `${r.direction}/${r.ethertype}/${r.remote_group_id === groups[0].id ? 'self' : 'any'}`,
      )
      .sort();
    expect(rules).toEqual([
      'egress/IPv4/any',
      'egress/IPv6/any',
      'ingress/IPv4/self',
      'ingress/IPv6/self',
    ]);
  });

  it('makes a group with egress rules, then adds an ingress rule to it', async () => {
    const { gw, token } = await setup();
    const group = (
      await gw.call('POST', `${N}/security-groups`, {
        token,
        body: { security_group: { name: 'web' } },
      })
    ).body.security_group;
    expect(group.security_group_rules.map((r: Json) => r.direction)).toEqual(['egress', 'egress']);
    const rule = await gw.call('POST', `${N}/security-group-rules`, {
      token,
      body: {
        security_group_rule: {
          security_group_id: group.id,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '0.0.0.0/0',
          ethertype: 'IPv4',
        },
      },
    });
    expect(rule.status).toBe(201);
    expect(rule.body.security_group_rule).toMatchObject({
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      remote_ip_prefix: '0.0.0.0/0',
    });
  });

  it('refuses a duplicate rule with SecurityGroupRuleExists', async () => {
    const { gw, token } = await setup();
    const group = (
      await gw.call('POST', `${N}/security-groups`, {
        token,
        body: { security_group: { name: 'web' } },
      })
    ).body.security_group;
    const body = {
      security_group_rule: {
        security_group_id: group.id,
        direction: 'ingress',
        protocol: 'tcp',
        port_range_min: 80,
        port_range_max: 80,
      },
    };
    await gw.call('POST', `${N}/security-group-rules`, { token, body });
    const again = await gw.call('POST', `${N}/security-group-rules`, { token, body });
    expect(again.status).toBe(409);
    expect(again.body.NeutronError.type).toBe('SecurityGroupRuleExists');
  });

  it('refuses protocols and ICMP types kumo firewalls cannot express', async () => {
    const { gw, token } = await setup();
    const group = (
      await gw.call('POST', `${N}/security-groups`, {
        token,
        body: { security_group: { name: 'x' } },
      })
    ).body.security_group;
    const gre = await gw.call('POST', `${N}/security-group-rules`, {
      token,
      body: {
        security_group_rule: { security_group_id: group.id, direction: 'ingress', protocol: 'gre' },
      },
    });
    expect(gre.body.NeutronError.type).toBe('SecurityGroupRuleInvalidProtocol');
    const icmpType = await gw.call('POST', `${N}/security-group-rules`, {
      token,
      body: {
        security_group_rule: {
          security_group_id: group.id,
          direction: 'ingress',
          protocol: 'icmp',
          port_range_min: 8,
        },
      },
    });
    expect(icmpType.status).toBe(400);
  });

  it('will not delete the default group', async () => {
    const { gw, token } = await setup();
    const def = (await gw.call('GET', `${N}/security-groups?name=default`, { token })).body
      .security_groups[0];
    expect((await gw.call('DELETE', `${N}/security-groups/${def.id}`, { token })).status).toBe(409);
  });
});

describe('networks on providers', () => {
  async function boot(
    g: TestGateway,
    token: string,
    server: Record<string, unknown>,
  ): Promise<string> {
    const flavor = (await g.call('GET', '/compute/v2.1/flavors', { token })).body.flavors.find(
      (f: Json) => f.name === '2vcpu-8gib',
    ).id;
    const image = (await g.call('GET', '/image/v2/images?name=ubuntu-22.04', { token })).body
      .images[0].id;
    const res = await g.call('POST', '/compute/v2.1/servers', {
      token,
      body: { server: { imageRef: image, flavorRef: flavor, ...server } },
    });
    if (res.status !== 202) throw new Error(JSON.stringify(res.body));
    const id: string = res.body.server.id;
    await eventually(async () =>
      (await g.call('GET', `/compute/v2.1/servers/${id}`, { token })).body.server.status ===
      'ACTIVE'
        ? true
        : undefined,
    );
    return id;
  }

  it('makes the network on the provider a server lands on, with its subnets and its groups’ rules as firewall', async () => {
    const { gw, token, onprem } = await setup();
    const { id } = await network(gw, token, 'app', '10.30.1.0/24');
    const group = (
      await gw.call('POST', `${N}/security-groups`, {
        token,
        body: { security_group: { name: 'ssh' } },
      })
    ).body.security_group;
    await gw.call('POST', `${N}/security-group-rules`, {
      token,
      body: {
        security_group_rule: {
          security_group_id: group.id,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
          port_range_max: 22,
          remote_ip_prefix: '192.0.2.0/24',
        },
      },
    });
    expect(onprem.ensured).toEqual([]);
    const server = await boot(gw, token, {
      name: 'vm',
      networks: [{ uuid: id }],
      security_groups: [{ name: 'ssh' }],
    });
    const made = onprem.ensured.at(-1)!;
    expect(made).toMatchObject({ cidr: '10.30.1.0/24', subnets: [{ cidr: '10.30.1.0/24' }] });
    expect(made.firewall).toEqual(
      expect.arrayContaining([
        {
          direction: 'ingress',
          protocol: 'tcp',
          ports: { from: 22, to: 22 },
          cidrs: ['192.0.2.0/24'],
        },
        { direction: 'egress', protocol: 'all', cidrs: ['0.0.0.0/0'] },
      ]),
    );
    const shown = (await gw.call('GET', `/compute/v2.1/servers/${server}`, { token })).body.server;
    expect(Object.keys(shown.addresses)).toEqual(['app']);
    expect(shown.addresses.app[0]).toMatchObject({
      version: 4,
      'OS-EXT-IPS:type': 'fixed',
      'OS-EXT-IPS-MAC:mac_addr': expect.stringMatching(/^fa:16:3e(:[0-9a-f]{2}){3}$/),
    });
    const machine = (await gw.dc.machines())[0]!;
    expect(machine.labels['kumo-pool']).toBe('adhoc.demo');
  });

  it('updates the provider network’s firewall when a rule is added to a group in use', async () => {
    const { gw, token, onprem } = await setup();
    const { id } = await network(gw, token, 'app', '10.30.1.0/24');
    await boot(gw, token, { name: 'vm', networks: [{ uuid: id }] });
    const def = (await gw.call('GET', `${N}/security-groups?name=default`, { token })).body
      .security_groups[0];
    const before = onprem.ensured.length;
    await gw.call('POST', `${N}/security-group-rules`, {
      token,
      body: {
        security_group_rule: {
          security_group_id: def.id,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 443,
        },
      },
    });
    expect(onprem.ensured.length).toBe(before + 1);
    expect(onprem.ensured.at(-1)!.firewall).toEqual(
      expect.arrayContaining([
        {
          direction: 'ingress',
          protocol: 'tcp',
          ports: { from: 443, to: 443 },
          cidrs: ['0.0.0.0/0'],
        },
        { direction: 'ingress', protocol: 'all', cidrs: ['10.30.1.0/24'] },
      ]),
    );
  });

  it('uses the project’s only network when a server names none, and refuses to guess among several', async () => {
    const { gw, token } = await setup();
    await network(gw, token, 'only', '10.40.0.0/24');
    const id = await boot(gw, token, { name: 'auto' });
    expect(
      Object.keys(
        (await gw.call('GET', `/compute/v2.1/servers/${id}`, { token })).body.server.addresses,
      ),
    ).toEqual(['only']);
    await network(gw, token, 'second', '10.41.0.0/24');
    const flavor = (await gw.call('GET', '/compute/v2.1/flavors', { token })).body.flavors[0].id;
    const image = (await gw.call('GET', '/image/v2/images', { token })).body.images[0].id;
    const res = await gw.call('POST', '/compute/v2.1/servers', {
      token,
      body: { server: { name: 'which', imageRef: image, flavorRef: flavor } },
    });
    expect(res.status).toBe(409);
    expect(res.body.conflictingRequest.message).toBe(
      'Multiple possible networks found, use a Network ID to be more specific.',
    );
  });

  it('refuses a network without a subnet for a server', async () => {
    const { gw, token } = await setup();
    const { id } = await network(gw, token, 'empty');
    const flavor = (await gw.call('GET', '/compute/v2.1/flavors', { token })).body.flavors[0].id;
    const image = (await gw.call('GET', '/image/v2/images', { token })).body.images[0].id;
    const res = await gw.call('POST', '/compute/v2.1/servers', {
      token,
      body: { server: { name: 'x', imageRef: image, flavorRef: flavor, networks: [{ uuid: id }] } },
    });
    expect(res.body.badRequest.message).toBe(
      `Network ${id} requires a subnet in order to boot instances on.`,
    );
  });

  it('refuses to delete a network servers are on, and deletes its provider network once they are gone', async () => {
    const { gw, token, onprem } = await setup();
    const { id } = await network(gw, token, 'busy', '10.50.0.0/24');
    const server = await boot(gw, token, { name: 'vm', networks: [{ uuid: id }] });
    const busy = await gw.call('DELETE', `${N}/networks/${id}`, { token });
    expect(busy.status).toBe(409);
    expect(busy.body.NeutronError.type).toBe('NetworkInUse');
    await gw.call('DELETE', `/compute/v2.1/servers/${server}`, { token });
    await eventually(async () =>
      (await gw.call('GET', `/compute/v2.1/servers/${server}`, { token })).status === 404
        ? true
        : undefined,
    );
    await eventually(async () =>
      (await gw.call('DELETE', `${N}/networks/${id}`, { token })).status === 204 ? true : undefined,
    );
    expect(onprem.deleted).toHaveLength(1);
  });
});
