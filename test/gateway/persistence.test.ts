import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { eventually, PASSWORDS, startGateway, type TestGateway } from './harness.js';

const dirs: string[] = [];
let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function datacenter(): LogicalDatacenter {
  return new LogicalDatacenter({
    name: 'gw-keep',
    store: memoryStore(),
    providers: {
      onprem: sim({
        name: 'onprem',
        zones: ['z1'],
        latency: { apiMs: 0, bootMs: 20, stopMs: 10, deleteMs: 10 },
      }),
    },
  });
}

describe('the gateway’s own state', () => {
  it('keeps networks, groups, key pairs and servers across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-gw-'));
    dirs.push(dir);
    const statePath = join(dir, 'gateway.json');
    const dc = datacenter();
    gw = await startGateway({ dc, statePath, spec: { defaultZone: 'onprem' } });
    let token = await gw.login();
    const net = (
      await gw.call('POST', '/network/v2.0/networks', {
        token,
        body: { network: { name: 'kept' } },
      })
    ).body.network.id;
    const flavor = (await gw.call('GET', '/compute/v2.1/flavors', { token })).body.flavors[0].id;
    const image = (await gw.call('GET', '/image/v2/images', { token })).body.images[0].id;
    const server = (
      await gw.call('POST', '/compute/v2.1/servers', {
        token,
        body: { server: { name: 'kept-vm', imageRef: image, flavorRef: flavor, networks: 'none' } },
        headers: { 'OpenStack-API-Version': 'compute 2.37' },
      })
    ).body.server.id;
    await eventually(async () =>
      (await gw!.call('GET', `/compute/v2.1/servers/${server}`, { token })).body.server.status ===
      'ACTIVE'
        ? true
        : undefined,
    );
    await gw.close();

    gw = await startGateway({ dc, statePath, spec: { defaultZone: 'onprem' } });
    token = await gw.login();
    expect(
      (await gw.call('GET', `/network/v2.0/networks/${net}`, { token })).body.network.name,
    ).toBe('kept');
    expect(
      (await gw.call('GET', `/compute/v2.1/servers/${server}`, { token })).body.server,
    ).toMatchObject({ name: 'kept-vm', status: 'ACTIVE' });
  });

  it('writes its file readable by its owner only, without passwords or tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-gw-'));
    dirs.push(dir);
    const statePath = join(dir, 'gateway.json');
    gw = await startGateway({ dc: datacenter(), statePath, spec: { defaultZone: 'onprem' } });
    const token = await gw.login();
    await gw.call('POST', '/network/v2.0/security-groups', {
      token,
      body: { security_group: { name: 'g' } },
    });
    expect(statSync(statePath).mode & 0o777).toBe(0o600);
    const text = readFileSync(statePath, 'utf8');
    expect(text).not.toContain(PASSWORDS.demo);
    expect(text).not.toContain(token);
  });

  it('refuses a state file that is not the gateway’s, naming it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kumo-gw-'));
    dirs.push(dir);
    const statePath = join(dir, 'gateway.json');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(statePath, '{"format":"something-else"}');
    await expect(
      startGateway({ dc: datacenter(), statePath, spec: { defaultZone: 'onprem' } }),
    ).rejects.toThrow(/invalid gateway store .*gateway\.json: format/);
  });
});
