import { afterEach, describe, expect, it } from 'vitest';
import { eventually, startGateway, type TestGateway, type Json } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

/** demo's server, network and security group, and a token of each project. */
async function twoProjects() {
  gw = await startGateway();
  const demo = await gw.login('demo');
  const other = await gw.login('other');
  const flavor = (await gw.call('GET', '/compute/v2.1/flavors', { token: demo })).body.flavors[0]
    .id;
  const image = (await gw.call('GET', '/image/v2/images', { token: demo })).body.images[0].id;
  const net = (
    await gw.call('POST', '/network/v2.0/networks', {
      token: demo,
      body: { network: { name: 'demo-net' } },
    })
  ).body.network.id;
  await gw.call('POST', '/network/v2.0/subnets', {
    token: demo,
    body: { subnet: { network_id: net, cidr: '10.9.0.0/24', ip_version: 4 } },
  });
  const group = (
    await gw.call('POST', '/network/v2.0/security-groups', {
      token: demo,
      body: { security_group: { name: 'demo-sg' } },
    })
  ).body.security_group.id;
  const server = (
    await gw.call('POST', '/compute/v2.1/servers', {
      token: demo,
      body: { server: { name: 'demo-vm', imageRef: image, flavorRef: flavor } },
    })
  ).body.server.id;
  await eventually(async () =>
    (await gw!.call('GET', `/compute/v2.1/servers/${server}`, { token: demo })).body.server
      .status === 'ACTIVE'
      ? true
      : undefined,
  );
  return { gw, demo, other, net, group, server, flavor, image };
}

describe('project isolation', () => {
  it('shows a project none of another project’s servers', async () => {
    const { gw, other, server } = await twoProjects();
    expect(
      (await gw.call('GET', '/compute/v2.1/servers/detail', { token: other })).body.servers,
    ).toEqual([]);
    expect((await gw.call('GET', `/compute/v2.1/servers/${server}`, { token: other })).status).toBe(
      404,
    );
  });

  it('lets no project stop or delete another project’s server', async () => {
    const { gw, demo, other, server } = await twoProjects();
    expect(
      (
        await gw.call('POST', `/compute/v2.1/servers/${server}/action`, {
          token: other,
          body: { 'os-stop': null },
        })
      ).status,
    ).toBe(404);
    expect(
      (await gw.call('DELETE', `/compute/v2.1/servers/${server}`, { token: other })).status,
    ).toBe(404);
    expect(
      (await gw.call('GET', `/compute/v2.1/servers/${server}`, { token: demo })).body.server.status,
    ).toBe('ACTIVE');
  });

  it('shows a project none of another project’s networks and groups, and lets it touch none', async () => {
    const { gw, other, net, group } = await twoProjects();
    expect(
      (await gw.call('GET', '/network/v2.0/networks', { token: other })).body.networks,
    ).toEqual([]);
    expect(
      (
        await gw.call('GET', '/network/v2.0/security-groups', { token: other })
      ).body.security_groups.map((g: Json) => g.name),
    ).toEqual(['default']);
    expect(
      (await gw.call('DELETE', `/network/v2.0/networks/${net}`, { token: other })).status,
    ).toBe(404);
    expect(
      (await gw.call('DELETE', `/network/v2.0/security-groups/${group}`, { token: other })).status,
    ).toBe(404);
    const rule = await gw.call('POST', '/network/v2.0/security-group-rules', {
      token: other,
      body: {
        security_group_rule: {
          security_group_id: group,
          direction: 'ingress',
          protocol: 'tcp',
          port_range_min: 22,
        },
      },
    });
    expect(rule.status).toBe(404);
  });

  it('lets no project boot on another project’s network', async () => {
    const { gw, other, net, flavor, image } = await twoProjects();
    const res = await gw.call('POST', '/compute/v2.1/servers', {
      token: other,
      body: {
        server: { name: 'x', imageRef: image, flavorRef: flavor, networks: [{ uuid: net }] },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toBe(`Network ${net} could not be found.`);
  });

  it('refuses to make objects in another project', async () => {
    const { gw, demo, other } = await twoProjects();
    const demoProject = (
      await gw.call('GET', '/v3/auth/tokens', { token: demo, headers: { 'X-Subject-Token': demo } })
    ).body.token.project.id;
    expect(
      (
        await gw.call('POST', '/network/v2.0/networks', {
          token: other,
          body: { network: { name: 'sneaky', project_id: demoProject } },
        })
      ).status,
    ).toBe(403);
  });

  it('keeps each project’s machines in its own pool', async () => {
    const { gw, other, flavor, image } = await twoProjects();
    const theirs = (
      await gw.call('POST', '/compute/v2.1/servers', {
        token: other,
        body: { server: { name: 'other-vm', imageRef: image, flavorRef: flavor } },
      })
    ).body.server.id;
    await eventually(async () =>
      (await gw.call('GET', `/compute/v2.1/servers/${theirs}`, { token: other })).body.server
        .status === 'ACTIVE'
        ? true
        : undefined,
    );
    expect((await gw.dc.machines()).map((m) => m.pool).sort()).toEqual([
      'adhoc.demo',
      'adhoc.other',
    ]);
  });

  it('keeps key pairs per user', async () => {
    const { gw, demo, other } = await twoProjects();
    await gw.call('POST', '/compute/v2.1/os-keypairs', {
      token: demo,
      body: {
        keypair: {
          name: 'k',
          public_key:
            'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9CDdE5W9wDv3Y9W0dLfXJ0u8 me@host',
        },
      },
    });
    expect(
      (await gw.call('GET', '/compute/v2.1/os-keypairs', { token: other })).body.keypairs,
    ).toEqual([]);
    expect((await gw.call('GET', '/compute/v2.1/os-keypairs/k', { token: other })).status).toBe(
      404,
    );
  });
});
