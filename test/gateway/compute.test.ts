import { afterEach, describe, expect, it } from 'vitest';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { eventually, startGateway, type TestGateway, type Json } from './harness.js';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const C = '/compute/v2.1';
/** An OpenSSH public key; `ssh-keygen -l -E md5` gives it the fingerprint below. */
const KEY =
  'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9CDdE5W9wDv3Y9W0dLfXJ0u8 me@host';

async function setup(): Promise<{ gw: TestGateway; token: string; flavor: string; image: string }> {
  gw = await startGateway();
  const token = await gw.login();
  const flavors = await gw.call('GET', `${C}/flavors`, { token });
  const images = await gw.call('GET', '/image/v2/images?name=ubuntu-22.04', { token });
  return {
    gw,
    token,
    flavor: flavors.body.flavors.find((f: Json) => f.name === '2vcpu-8gib').id,
    image: images.body.images[0].id,
  };
}

async function boot(
  g: TestGateway,
  token: string,
  server: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<string> {
  const res = await g.call('POST', `${C}/servers`, { token, body: { server }, headers });
  if (res.status !== 202) throw new Error(`boot failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.server.id;
}

async function statusOf(g: TestGateway, token: string, id: string, want: string): Promise<Json> {
  return eventually(async () => {
    const res = await g.call('GET', `${C}/servers/${id}`, { token });
    return res.body?.server?.status === want ? res.body.server : undefined;
  });
}

describe('compute discovery and microversions', () => {
  it('lists v2.1 with its microversion range at /compute', async () => {
    gw = await startGateway();
    const res = await gw.call('GET', '/compute/');
    expect(res.body.versions[0]).toMatchObject({
      id: 'v2.1',
      status: 'CURRENT',
      min_version: '2.1',
      version: '2.38',
    });
  });

  it('serves 2.1 when no microversion is asked for, and says so in both headers', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('GET', `${C}/flavors`, { token });
    expect(res.headers.get('openstack-api-version')).toBe('compute 2.1');
    expect(res.headers.get('x-openstack-nova-api-version')).toBe('2.1');
  });

  it('serves the asked microversion, and the newest for latest', async () => {
    const { gw, token } = await setup();
    expect(
      (
        await gw.call('GET', `${C}/flavors`, {
          token,
          headers: { 'OpenStack-API-Version': 'compute 2.37' },
        })
      ).headers.get('openstack-api-version'),
    ).toBe('compute 2.37');
    expect(
      (
        await gw.call('GET', `${C}/flavors`, {
          token,
          headers: { 'X-OpenStack-Nova-API-Version': 'latest' },
        })
      ).headers.get('x-openstack-nova-api-version'),
    ).toBe('2.38');
  });

  it('answers 406 for a microversion beyond the range', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('GET', `${C}/flavors`, {
      token,
      headers: { 'OpenStack-API-Version': 'compute 2.90' },
    });
    expect(res.status).toBe(406);
    expect(res.body.computeFault.message).toBe(
      'Version 2.90 is not supported by the API. Minimum is 2.1 and maximum is 2.38.',
    );
  });
});

describe('flavors, images and availability zones', () => {
  it('derives flavors from the providers’ sizes, with stable ids and details', async () => {
    const { gw, token, flavor } = await setup();
    const detail = await gw.call('GET', `${C}/flavors/detail`, { token });
    const f = detail.body.flavors.find((x: Json) => x.id === flavor);
    expect(f).toMatchObject({
      name: '2vcpu-8gib',
      vcpus: 2,
      ram: 8192,
      disk: 0,
      'os-flavor-access:is_public': true,
    });
    const again = await startGateway();
    try {
      const token2 = await again.login();
      expect(
        (await again.call('GET', `${C}/flavors/${flavor}`, { token: token2 })).body.flavor.name,
      ).toBe('2vcpu-8gib');
    } finally {
      await again.close();
    }
  });

  it('filters flavors by minRam and refuses a minRam that is not a whole number', async () => {
    const { gw, token } = await setup();
    const big = await gw.call('GET', `${C}/flavors/detail?minRam=65536`, { token });
    expect(big.body.flavors.length).toBeGreaterThan(0);
    expect(big.body.flavors.every((f: Json) => f.ram >= 65536)).toBe(true);
    const bad = await gw.call('GET', `${C}/flavors?minRam=abc`, { token });
    expect(bad.status).toBe(400);
    expect(bad.body.badRequest.message).toMatch(/minRam/);
  });

  it('answers itemNotFound for an unknown flavor', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('GET', `${C}/flavors/nope`, { token });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({
      itemNotFound: { code: 404, message: 'Flavor nope could not be found.' },
    });
  });

  it('lists one availability zone per provider zone', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('GET', `${C}/os-availability-zone`, { token });
    expect(res.body.availabilityZoneInfo.map((z: Json) => z.zoneName)).toEqual([
      'cloud:sim-east-1a',
      'cloud:sim-east-1b',
      'cloud:sim-east-1c',
      'onprem:dc-1a',
      'onprem:dc-1b',
    ]);
  });

  it('proxies images before 2.36 and answers 404 from 2.36 on, as Nova does', async () => {
    const { gw, token, image } = await setup();
    expect((await gw.call('GET', `${C}/images/${image}`, { token })).body.image).toMatchObject({
      name: 'ubuntu-22.04',
      status: 'ACTIVE',
    });
    expect(
      (
        await gw.call('GET', `${C}/images`, {
          token,
          headers: { 'OpenStack-API-Version': 'compute 2.36' },
        })
      ).status,
    ).toBe(404);
  });
});

describe('servers', () => {
  it('answers 202 with the new server, which builds and then becomes ACTIVE', async () => {
    const { gw, token, flavor, image } = await setup();
    const res = await gw.call('POST', `${C}/servers`, {
      token,
      body: { server: { name: 'web-1', imageRef: image, flavorRef: flavor } },
    });
    expect(res.status).toBe(202);
    expect(res.headers.get('location')).toBe(`${gw.url}${C}/servers/${res.body.server.id}`);
    expect(res.body.server).toMatchObject({
      'OS-DCF:diskConfig': 'MANUAL',
      security_groups: [{ name: 'default' }],
    });
    const first = (await gw.call('GET', `${C}/servers/${res.body.server.id}`, { token })).body
      .server;
    expect(['BUILD', 'ACTIVE']).toContain(first.status);
    const active = await statusOf(gw, token, res.body.server.id, 'ACTIVE');
    expect(active).toMatchObject({
      name: 'web-1',
      'OS-EXT-STS:vm_state': 'active',
      'OS-EXT-STS:power_state': 1,
      'OS-EXT-STS:task_state': null,
      image: { id: image },
      flavor: { id: flavor },
    });
    expect(active['OS-EXT-AZ:availability_zone']).toMatch(/^onprem:dc-1[ab]$/);
    expect(active['OS-SRV-USG:launched_at']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/);
  });

  it('lands the server on the provider and zone the availability zone names', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, {
      name: 'placed',
      imageRef: image,
      flavorRef: flavor,
      availability_zone: 'cloud:sim-east-1b',
    });
    const server = await statusOf(gw, token, id, 'ACTIVE');
    expect(server['OS-EXT-AZ:availability_zone']).toBe('cloud:sim-east-1b');
    const machines = await gw.dc.machines({ provider: 'cloud' });
    expect(machines.map((m) => m.zone)).toEqual(['sim-east-1b']);
    expect(machines[0]!.pool).toBe('adhoc.demo');
  });

  it('lands the server on any zone of a provider named alone', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, {
      name: 'anywhere',
      imageRef: image,
      flavorRef: flavor,
      availability_zone: 'cloud',
    });
    expect((await statusOf(gw, token, id, 'ACTIVE'))['OS-EXT-AZ:availability_zone']).toMatch(
      /^cloud:/,
    );
  });

  it('refuses an unknown availability zone with badRequest naming the zones', async () => {
    const { gw, token, flavor, image } = await setup();
    const res = await gw.call('POST', `${C}/servers`, {
      token,
      body: {
        server: { name: 'x', imageRef: image, flavorRef: flavor, availability_zone: 'mars' },
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/"mars".*onprem:dc-1a/);
  });

  it('refuses an unknown image or flavor with badRequest', async () => {
    const { gw, token, flavor, image } = await setup();
    expect(
      (
        await gw.call('POST', `${C}/servers`, {
          token,
          body: { server: { name: 'x', imageRef: 'nope', flavorRef: flavor } },
        })
      ).body.badRequest.message,
    ).toBe('Image nope could not be found.');
    expect(
      (
        await gw.call('POST', `${C}/servers`, {
          token,
          body: { server: { name: 'x', imageRef: image, flavorRef: 'nope' } },
        })
      ).body.badRequest.message,
    ).toBe('Flavor nope could not be found.');
  });

  it('names the field at fault in a malformed create', async () => {
    const { gw, token, flavor } = await setup();
    const res = await gw.call('POST', `${C}/servers`, {
      token,
      body: { server: { name: '', flavorRef: flavor } },
    });
    expect(res.status).toBe(400);
    expect(res.body.badRequest.message).toMatch(/server\.name: name is required/);
    expect(res.body.badRequest.message).toMatch(/server\.imageRef/);
  });

  it('requires networks from 2.37 on and takes none there', async () => {
    const { gw, token, flavor, image } = await setup();
    const v = { 'OpenStack-API-Version': 'compute 2.37' };
    const missing = await gw.call('POST', `${C}/servers`, {
      token,
      headers: v,
      body: { server: { name: 'x', imageRef: image, flavorRef: flavor } },
    });
    expect(missing.status).toBe(400);
    const id = await boot(
      gw,
      token,
      { name: 'no-net', imageRef: image, flavorRef: flavor, networks: 'none' },
      v,
    );
    await statusOf(gw, token, id, 'ACTIVE');
    const shown = await gw.call('GET', `${C}/servers/${id}`, { token, headers: v });
    expect(shown.body.server).toMatchObject({ tags: [], locked: false, description: null });
  });

  it('puts a server the provider refuses in ERROR with a fault', async () => {
    const { gw, token, image } = await setup();
    const flavors = await gw.call('GET', `${C}/flavors`, { token });
    const gpu = flavors.body.flavors.find((f: Json) => f.name === '4vcpu-16gib-1gpu').id;
    // The simulated cloud offers GPUs in its first two zones only.
    const id = await boot(gw, token, {
      name: 'gpu',
      imageRef: image,
      flavorRef: gpu,
      availability_zone: 'cloud:sim-east-1c',
    });
    const server = await statusOf(gw, token, id, 'ERROR');
    expect(server.fault).toMatchObject({
      code: 500,
      message: expect.stringMatching(/^No valid host was found\. no size offers 4 vCPU/),
    });
    expect(server['OS-EXT-STS:vm_state']).toBe('error');
  });

  it('stops and starts a server through SHUTOFF back to ACTIVE', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'cycle', imageRef: image, flavorRef: flavor });
    await statusOf(gw, token, id, 'ACTIVE');
    expect(
      (await gw.call('POST', `${C}/servers/${id}/action`, { token, body: { 'os-stop': null } }))
        .status,
    ).toBe(202);
    const off = await statusOf(gw, token, id, 'SHUTOFF');
    expect(off).toMatchObject({ 'OS-EXT-STS:vm_state': 'stopped', 'OS-EXT-STS:power_state': 4 });
    expect(
      (await gw.call('POST', `${C}/servers/${id}/action`, { token, body: { 'os-start': null } }))
        .status,
    ).toBe(202);
    await statusOf(gw, token, id, 'ACTIVE');
  });

  it('answers conflictingRequest for starting a server that is running', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'running', imageRef: image, flavorRef: flavor });
    await statusOf(gw, token, id, 'ACTIVE');
    const res = await gw.call('POST', `${C}/servers/${id}/action`, {
      token,
      body: { 'os-start': null },
    });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({
      conflictingRequest: {
        code: 409,
        message: `Cannot 'start' instance ${id} while it is in vm_state active`,
      },
    });
  });

  it('answers badRequest for an action it does not offer', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'x', imageRef: image, flavorRef: flavor });
    expect(
      (
        await gw.call('POST', `${C}/servers/${id}/action`, {
          token,
          body: { reboot: { type: 'SOFT' } },
        })
      ).body.badRequest.message,
    ).toBe('There is no such action: reboot');
  });

  it('deletes a server, whose machine goes, and then answers itemNotFound', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'doomed', imageRef: image, flavorRef: flavor });
    await statusOf(gw, token, id, 'ACTIVE');
    expect((await gw.call('DELETE', `${C}/servers/${id}`, { token })).status).toBe(204);
    const gone = await eventually(async () => {
      const res = await gw.call('GET', `${C}/servers/${id}`, { token });
      return res.status === 404 ? res : undefined;
    });
    expect(gone.body).toEqual({
      itemNotFound: { code: 404, message: `Instance ${id} could not be found.` },
    });
    await gw.gateway.settle();
    expect(await gw.dc.machines()).toEqual([]);
  });

  it('shows ERROR for a server whose machine vanished from its provider, and deletes it cleanly', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'vanishing', imageRef: image, flavorRef: flavor });
    await statusOf(gw, token, id, 'ACTIVE');
    const [machine] = await gw.dc.machines();
    await gw.dc.providers.get(machine!.provider)!.deleteMachines([machine!.providerId]);
    const broken = await statusOf(gw, token, id, 'ERROR');
    expect(broken.fault.message).toBe(`The machine is gone from provider ${machine!.provider}.`);
    expect((await gw.call('DELETE', `${C}/servers/${id}`, { token })).status).toBe(204);
    await eventually(async () =>
      (await gw.call('GET', `${C}/servers/${id}`, { token })).status === 404 ? true : undefined,
    );
    expect(await gw.dc.machines({ status: ['present', 'lost', 'deleting'] })).toEqual([]);
  });

  it('deletes a server whose create is still under way', async () => {
    const { gw, token, flavor, image } = await setup();
    const id = await boot(gw, token, { name: 'hasty', imageRef: image, flavorRef: flavor });
    expect((await gw.call('DELETE', `${C}/servers/${id}`, { token })).status).toBe(204);
    await eventually(async () =>
      (await gw.call('GET', `${C}/servers/${id}`, { token })).status === 404 ? true : undefined,
    );
  });

  it('leaves no machine behind when a server is deleted while its create is still in the cloud', async () => {
    // A slow cloud API: the delete arrives while the machine is being made.
    const slow = sim({ name: 'onprem', region: 'dc-1', latency: { apiMs: 200, bootMs: 10 } });
    const dc = new LogicalDatacenter({
      name: 'gw-test',
      store: memoryStore(),
      providers: { onprem: slow },
    });
    gw = await startGateway({ dc });
    const token = await gw.login();
    const flavor = (await gw.call('GET', `${C}/flavors`, { token })).body.flavors[0].id;
    const image = (await gw.call('GET', '/image/v2/images', { token })).body.images[0].id;
    const id = await boot(
      gw,
      token,
      { name: 'hasty', imageRef: image, flavorRef: flavor, networks: 'none' },
      { 'OpenStack-API-Version': 'compute 2.37' },
    );
    expect((await gw.call('DELETE', `${C}/servers/${id}`, { token })).status).toBe(204);
    await gw.gateway.settle();
    expect((await gw.call('GET', `${C}/servers/${id}`, { token })).status).toBe(404);
    expect(await dc.machines()).toEqual([]);
    expect(await slow.listMachines()).toEqual([]);
  });

  it('lists servers newest first, in brief and in detail, filtered by name and status', async () => {
    const { gw, token, flavor, image } = await setup();
    const a = await boot(gw, token, { name: 'alpha', imageRef: image, flavorRef: flavor });
    await new Promise((r) => setTimeout(r, 5));
    const b = await boot(gw, token, { name: 'beta', imageRef: image, flavorRef: flavor });
    await statusOf(gw, token, a, 'ACTIVE');
    await statusOf(gw, token, b, 'ACTIVE');
    const brief = await gw.call('GET', `${C}/servers`, { token });
    expect(brief.body.servers.map((s: Json) => Object.keys(s).sort())).toEqual([
      ['id', 'links', 'name'],
      ['id', 'links', 'name'],
    ]);
    expect(brief.body.servers.map((s: Json) => s.name)).toEqual(['beta', 'alpha']);
    expect(
      (await gw.call('GET', `${C}/servers/detail?name=^alp`, { token })).body.servers.map(
        (s: Json) => s.id,
      ),
    ).toEqual([a]);
    expect(
      (await gw.call('GET', `${C}/servers/detail?status=SHUTOFF`, { token })).body.servers,
    ).toEqual([]);
  });

  it('pages servers with limit and a next link', async () => {
    const { gw, token, flavor, image } = await setup();
    await boot(gw, token, {
      name: 'p',
      imageRef: image,
      flavorRef: flavor,
      min_count: 3,
      max_count: 3,
    });
    const first = await gw.call('GET', `${C}/servers?limit=2`, { token });
    expect(first.body.servers.map((s: Json) => s.name).sort()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^p-[123]$/)]),
    );
    expect(first.body.servers).toHaveLength(2);
    const next = new URL(first.body.servers_links[0].href);
    const second = await gw.call('GET', `${next.pathname}${next.search}`, { token });
    expect(second.body.servers).toHaveLength(1);
    expect(second.body.servers_links).toBeUndefined();
  });
});

describe('key pairs', () => {
  it('imports a public key, fingerprinted as ssh-keygen -E md5 does', async () => {
    const { gw, token } = await setup();
    const publicKey = KEY;
    const res = await gw.call('POST', `${C}/os-keypairs`, {
      token,
      body: { keypair: { name: 'mine', public_key: publicKey } },
    });
    expect(res.status).toBe(200);
    expect(res.body.keypair).toMatchObject({
      name: 'mine',
      public_key: publicKey,
      fingerprint: 'f9:74:27:3d:b3:5e:54:b5:3f:ea:62:0c:9d:15:47:87',
    });
    expect(res.body.keypair.private_key).toBeUndefined();
  });

  it('makes a key pair when none is given, returning the private key once', async () => {
    const { gw, token } = await setup();
    const res = await gw.call('POST', `${C}/os-keypairs`, {
      token,
      headers: { 'OpenStack-API-Version': 'compute 2.2' },
      body: { keypair: { name: 'made' } },
    });
    expect(res.status).toBe(201);
    expect(res.body.keypair.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    expect(res.body.keypair.type).toBe('ssh');
    const shown = await gw.call('GET', `${C}/os-keypairs/made`, { token });
    expect(shown.body.keypair.private_key).toBeUndefined();
    expect(shown.body.keypair.public_key).toBe(res.body.keypair.public_key);
  });

  it('makes one of two key pairs of the same name asked for at once; the other is a conflict', async () => {
    const { gw, token } = await setup();
    const make = () =>
      gw.call('POST', `${C}/os-keypairs`, { token, body: { keypair: { name: 'twice' } } });
    const answers = await Promise.all([make(), make()]);
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    const made = answers.find((r) => r.status === 200)!;
    const shown = await gw.call('GET', `${C}/os-keypairs/twice`, { token });
    expect(shown.body.keypair.public_key).toBe(made.body.keypair.public_key);
  });

  it('refuses a duplicate name with conflictingRequest and a malformed key with badRequest', async () => {
    const { gw, token } = await setup();
    await gw.call('POST', `${C}/os-keypairs`, {
      token,
      body: { keypair: { name: 'dup', public_key: KEY } },
    });
    expect(
      (
        await gw.call('POST', `${C}/os-keypairs`, {
          token,
          body: { keypair: { name: 'dup', public_key: KEY } },
        })
      ).status,
    ).toBe(409);
    expect(
      (
        await gw.call('POST', `${C}/os-keypairs`, {
          token,
          body: { keypair: { name: 'bad', public_key: 'ssh-rsa not-base64!' } },
        })
      ).status,
    ).toBe(400);
  });

  it('gives a server the key pair’s public key', async () => {
    const { gw, token, flavor, image } = await setup();
    const made = await gw.call('POST', `${C}/os-keypairs`, {
      token,
      body: { keypair: { name: 'login' } },
    });
    const id = await boot(gw, token, {
      name: 'keyed',
      imageRef: image,
      flavorRef: flavor,
      key_name: 'login',
    });
    expect((await statusOf(gw, token, id, 'ACTIVE')).key_name).toBe('login');
    expect(made.body.keypair.public_key).toMatch(/^ssh-rsa /);
    expect(
      (
        await gw.call('POST', `${C}/servers`, {
          token,
          body: { server: { name: 'x', imageRef: image, flavorRef: flavor, key_name: 'nope' } },
        })
      ).body.badRequest.message,
    ).toBe('Invalid key_name provided.');
  });

  it('deletes a key pair with 202 at 2.1 and 204 from 2.2', async () => {
    const { gw, token } = await setup();
    await gw.call('POST', `${C}/os-keypairs`, {
      token,
      body: { keypair: { name: 'a', public_key: KEY } },
    });
    await gw.call('POST', `${C}/os-keypairs`, {
      token,
      body: { keypair: { name: 'b', public_key: KEY } },
    });
    expect((await gw.call('DELETE', `${C}/os-keypairs/a`, { token })).status).toBe(202);
    expect(
      (
        await gw.call('DELETE', `${C}/os-keypairs/b`, {
          token,
          headers: { 'OpenStack-API-Version': 'compute 2.2' },
        })
      ).status,
    ).toBe(204);
    expect((await gw.call('GET', `${C}/os-keypairs`, { token })).body.keypairs).toEqual([]);
  });
});
