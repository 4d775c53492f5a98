import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Throttled } from '../../../src/core/index.js';
import {
  fixture,
  GLANCE,
  mockedProvider,
  mockKeystone,
  mockNovaVersion,
  NEUTRON,
  NOVA,
} from './helpers.js';
import { caught } from '../../support/caught.js';

const NET = '3e1b6c39-4d5a-4f4e-9b7e-1a2b3c4d5e6f';
const SERVER = '23dd8c5d-d4be-4693-b2e5-4e092f5be08a';
/** The request that made the recorded server (its name and kumo-key match). */
const REQUEST = {
  spec: { resources: { cpus: 1, memoryMiB: 512 }, image: 'ubuntu-22.04' },
  count: 1,
  idempotencyKey: 'ct-c1558c-k1',
  dc: 'ct-c1558c',
  pool: 'p1',
};

/** Glance and Neutron as a create needs them: the ubuntu image, the network. */
function mockImageAndNetwork(): void {
  nock(GLANCE).get('/').reply(300, fixture('glance-versions')).persist();
  nock(GLANCE)
    .get('/v2/images')
    .query({ os_distro: 'ubuntu', status: 'active' })
    .reply(200, fixture('glance-images-list-ubuntu'))
    .persist();
  nock(NEUTRON).get('/').reply(200, fixture('neutron-versions')).persist();
  nock(NEUTRON)
    .get('/v2.0/networks')
    .query({ id: NET })
    .reply(200, fixture('neutron-networks-list-one'))
    .persist();
}

function mockFlavors(): void {
  nock(NOVA).get('/v2.1/flavors/detail').reply(200, fixture('nova-flavors-detail')).persist();
}

function mockZones(): nock.Scope {
  return nock(NOVA)
    .get('/v2.1/os-availability-zone')
    .reply(200, fixture('nova-os-availability-zone'));
}

const lookup = () =>
  nock(NOVA)
    .get('/v2.1/servers/detail')
    .query((q) => typeof q.name === 'string' && q.name.startsWith('^p1-'));

beforeEach(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('openstack provider over the wire (nock)', () => {
  it('sends the negotiated compute microversion on Nova calls', async () => {
    mockKeystone();
    mockNovaVersion();
    const flavors = nock(NOVA)
      .get('/v2.1/flavors/detail')
      .matchHeader('OpenStack-API-Version', 'compute 2.79')
      .reply(200, fixture('nova-flavors-detail'));
    const { provider } = mockedProvider();
    const sizes = await provider.listSizes();
    expect(sizes.map((s) => s.name)).toContain('kumo.small');
    expect(flavors.isDone()).toBe(true);
  });

  it('asks for no newer microversion than the cloud offers', async () => {
    mockKeystone();
    nock(NOVA)
      .get('/v2.1/')
      .reply(200, {
        version: { id: 'v2.1', status: 'CURRENT', version: '2.60', min_version: '2.1', links: [] },
      });
    const { provider } = mockedProvider();
    expect(await provider.clients.nova.microversion()).toBe('2.60');
  });

  it('waits at least the Retry-After of a 429 before trying again', async () => {
    mockKeystone();
    mockNovaVersion();
    nock(NOVA)
      .get('/v2.1/flavors/detail')
      .reply(
        429,
        { overLimit: { code: 429, message: 'Too many requests' } },
        { 'Retry-After': '7' },
      );
    mockFlavors();
    const delays: number[] = [];
    const { provider } = mockedProvider({}, (e) => delays.push(e.delayMs));
    const sizes = await provider.listSizes();
    expect(sizes.length).toBeGreaterThan(0);
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(7000);
  });

  it('maps a 429 to Throttled carrying the wait and the request id', async () => {
    mockKeystone();
    mockNovaVersion();
    nock(NOVA)
      .get('/v2.1/flavors/detail')
      .times(2)
      .reply(429, 'slow down', { 'Retry-After': '3', 'X-Compute-Request-Id': 'req-429' });
    const { provider } = mockedProvider({ retryAttempts: 2 });
    const err = await caught(provider.listSizes());
    expect(err).toBeInstanceOf(Throttled);
    expect((err as Throttled).retryAfterMs).toBe(3000);
    expect(err.cause).toMatchObject({ status: 429, requestId: 'req-429' });
  });

  it('retries a create that got 503 and makes exactly one server', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockImageAndNetwork();
    lookup().times(2).reply(200, fixture('nova-servers-detail-empty'));
    const posts = nock(NOVA)
      .post('/v2.1/servers')
      .reply(503, '<html><body><h1>503 Service Unavailable</h1></body></html>', {
        'Content-Type': 'text/html',
      })
      .post('/v2.1/servers')
      .reply(202, fixture('nova-servers-create-accepted'));
    nock(NOVA).get(`/v2.1/servers/${SERVER}`).reply(200, fixture('nova-servers-show-active'));
    const { provider } = mockedProvider();
    const made = await provider.createMachines(REQUEST);
    expect(made).toHaveLength(1);
    expect(made[0]).toMatchObject({ providerId: SERVER, state: 'running', size: 'kumo.small' });
    expect(posts.isDone()).toBe(true);
  });

  it('after a 503 whose server was made anyway, finds it instead of creating again', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockImageAndNetwork();
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    lookup().reply(200, fixture('nova-servers-detail-one'));
    nock(NOVA).post('/v2.1/servers').once().reply(503, 'Service Unavailable');
    nock(NOVA).get(`/v2.1/servers/${SERVER}`).reply(200, fixture('nova-servers-show-active'));
    const { provider } = mockedProvider();
    const made = await provider.createMachines(REQUEST);
    expect(made.map((m) => m.providerId)).toEqual([SERVER]);
    expect(nock.pendingMocks().filter((m) => m.startsWith('POST'))).toEqual([]);
  });

  it('sends kumo tags as metadata, the key pair, base64 user data and the zone', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockZones();
    mockImageAndNetwork();
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    nock(NOVA)
      .get(/\/v2\.1\/os-keypairs\/kumo-[0-9a-f]{16}$/)
      .reply(404, { itemNotFound: { code: 404, message: 'Keypair not found' } });
    const keypair = nock(NOVA)
      .post(
        '/v2.1/os-keypairs',
        (b) => b.keypair.public_key === 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture kumo@test',
      )
      .reply(200, (_u, body) => ({
        keypair: { ...(body as { keypair: object }).keypair, fingerprint: 'fp' },
      }));
    let sent: Record<string, unknown> = {};
    nock(NOVA)
      .post('/v2.1/servers', (b) => ((sent = b.server), true))
      .reply(202, fixture('nova-servers-create-accepted'));
    nock(NOVA).get(`/v2.1/servers/${SERVER}`).reply(200, fixture('nova-servers-show-active'));
    const { provider } = mockedProvider();
    await provider.createMachines({
      ...REQUEST,
      labels: { team: 'data' },
      spec: {
        ...REQUEST.spec,
        zone: 'nova',
        userData: '#cloud-config\n',
        sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFixture kumo@test'],
      },
    });
    expect(keypair.isDone()).toBe(true);
    expect(sent).toMatchObject({
      name: 'p1-218a6ea9-0',
      flavorRef: 'kumo.small',
      availability_zone: 'nova',
      user_data: Buffer.from('#cloud-config\n').toString('base64'),
      networks: [{ uuid: '00588a3d-4c3a-4867-a3a0-5512e5338e67' }],
      metadata: {
        team: 'data',
        'kumo-dc': 'ct-c1558c',
        'kumo-pool': 'p1',
        'kumo-key': 'ct-c1558c-k1',
        'kumo-id': 'p1-218a6ea9-0',
      },
    });
    expect(String(sent.key_name)).toMatch(/^kumo-[0-9a-f]{16}$/);
  });

  it('refuses a zone Nova does not list, naming the zones, before creating anything', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockZones();
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    const { provider } = mockedProvider();
    const choice = { resources: { cpus: 1, memoryMiB: 512 }, zone: 'nowhere' };
    const err = await caught(provider.chooseSize(choice));
    expect(err).toMatchObject({
      code: 'ValidationError',
      provider: 'openstack',
      message: 'unknown availability zone "nowhere"; zones are nova',
      issues: [{ path: 'spec.zone', message: 'unknown availability zone' }],
    });
    const create = await caught(
      provider.createMachines({ ...REQUEST, spec: { ...REQUEST.spec, zone: 'nowhere' } }),
    );
    expect(create).toMatchObject({ code: 'ValidationError', message: err.message });
    expect((await provider.chooseSize({ ...choice, zone: 'nova' })).name).toBe('kumo.small');
  });

  it('sizes for a zone Nova lists as down, but a create there is out of capacity for now', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    const listed = fixture('nova-os-availability-zone') as {
      availabilityZoneInfo: Record<string, unknown>[];
    };
    nock(NOVA)
      .get('/v2.1/os-availability-zone')
      .reply(200, {
        availabilityZoneInfo: [
          ...listed.availabilityZoneInfo,
          { zoneName: 'az2', zoneState: { available: false }, hosts: null },
        ],
      });
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    const { provider } = mockedProvider();
    const choice = { resources: { cpus: 1, memoryMiB: 512 }, zone: 'az2' };
    expect((await provider.chooseSize(choice)).name).toBe('kumo.small');
    const err = await caught(
      provider.createMachines({ ...REQUEST, spec: { ...REQUEST.spec, zone: 'az2' } }),
    );
    expect(err).toMatchObject({
      code: 'InsufficientCapacity',
      message: 'availability zone "az2" is not available now',
    });
    expect(nock.pendingMocks().filter((m) => m.startsWith('POST'))).toEqual([]);
  });

  it('leaves the zone to Nova when the cloud does not let its users list zones', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    nock(NOVA)
      .get('/v2.1/os-availability-zone')
      .reply(403, {
        forbidden: {
          code: 403,
          message: "Policy doesn't allow os_compute_api:os-availability-zone:list to be performed.",
        },
      });
    const { provider } = mockedProvider();
    const size = await provider.chooseSize({ resources: { cpus: 1, memoryMiB: 512 }, zone: 'az9' });
    expect(size.name).toBe('kumo.small');
  });

  it('turns a quota 403 into QuotaExceeded with the compute request id, without retrying', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockImageAndNetwork();
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    nock(NOVA)
      .post('/v2.1/servers')
      .once()
      .reply(403, fixture('nova-servers-create-quota-exceeded'), {
        'X-Compute-Request-Id': 'req-fb629404',
      });
    const { provider } = mockedProvider();
    const err = await caught(provider.createMachines(REQUEST));
    expect(err.code).toBe('QuotaExceeded');
    expect(err.message).toContain('Quota exceeded for instances');
    expect(err.cause).toMatchObject({ code: 'forbidden', status: 403, requestId: 'req-fb629404' });
  });

  it('turns a No valid host fault into InsufficientCapacity and deletes the failed server', async () => {
    mockKeystone();
    mockNovaVersion();
    mockFlavors();
    mockImageAndNetwork();
    lookup().reply(200, fixture('nova-servers-detail-empty'));
    nock(NOVA).post('/v2.1/servers').reply(202, fixture('nova-servers-create-accepted'));
    nock(NOVA)
      .get(`/v2.1/servers/${SERVER}`)
      .twice()
      .reply(200, fixture('nova-servers-show-error-no-valid-host'));
    const deleted = nock(NOVA).delete(`/v2.1/servers/${SERVER}`).reply(204);
    const { provider } = mockedProvider();
    const err = await caught(provider.createMachines(REQUEST));
    expect(err.code).toBe('InsufficientCapacity');
    expect(err.message).toContain('No valid host was found');
    expect(deleted.isDone()).toBe(true);
  });

  it('shows a server in ERROR as an error machine with the fault message', async () => {
    mockKeystone();
    mockNovaVersion();
    nock(NOVA)
      .get(`/v2.1/servers/${SERVER}`)
      .reply(200, fixture('nova-servers-show-error-no-valid-host'));
    const { provider } = mockedProvider();
    const m = await provider.getMachine(SERVER);
    expect(m.state).toBe('error');
    expect(m.error).toBe('No valid host was found. ');
  });

  it('treats deleting a server that is already gone as success', async () => {
    mockKeystone();
    mockNovaVersion();
    nock(NOVA)
      .delete(`/v2.1/servers/${SERVER}`)
      .reply(404, { itemNotFound: { code: 404, message: 'Instance could not be found.' } });
    const { provider } = mockedProvider();
    await expect(provider.deleteMachines([SERVER])).resolves.toBeUndefined();
  });

  it('re-authenticates once when Nova refuses the token with 401', async () => {
    const auth = mockKeystone(2);
    mockNovaVersion();
    nock(NOVA)
      .get('/v2.1/flavors/detail')
      .reply(401, {
        error: {
          code: 401,
          title: 'Unauthorized',
          message: 'The request you have made requires authentication.',
        },
      });
    mockFlavors();
    const { provider } = mockedProvider();
    expect((await provider.listSizes()).length).toBeGreaterThan(0);
    expect(auth.isDone()).toBe(true);
    expect(provider.clients.session.authentications).toBe(2);
  });

  it('gives AuthError when a fresh token is refused too', async () => {
    mockKeystone(2);
    mockNovaVersion();
    nock(NOVA)
      .get('/v2.1/flavors/detail')
      .times(2)
      .reply(401, { error: { code: 401, title: 'Unauthorized', message: 'no' } });
    const { provider } = mockedProvider();
    expect((await caught(provider.listSizes())).code).toBe('AuthError');
  });

  it('gives AuthError naming Keystone for a wrong password', async () => {
    nock('http://cloud.test:5000')
      .post('/v3/auth/tokens')
      .reply(401, fixture('keystone-auth-tokens-wrong-password'));
    const { provider } = mockedProvider();
    const err = await caught(provider.listSizes());
    expect(err.code).toBe('AuthError');
    expect(err.message).toContain('identity');
    expect(err.message).not.toContain('not-a-real-password');
  });

  it('resolves an alias by os_distro and os_version', async () => {
    mockKeystone();
    nock(GLANCE).get('/').reply(300, fixture('glance-versions'));
    nock(GLANCE)
      .get('/v2/images')
      .query({ os_distro: 'ubuntu', status: 'active' })
      .reply(200, fixture('glance-images-list-ubuntu'));
    const { provider } = mockedProvider();
    const image = await provider.resolveImage('ubuntu-22.04');
    expect(image).toMatchObject({
      alias: 'ubuntu-22.04',
      os: 'ubuntu',
      version: '22.04',
      name: 'kumo-ubuntu-22.04-lab',
    });
  });

  it('says NotFound, listing what it tried, for an alias no image carries', async () => {
    mockKeystone();
    nock(GLANCE).get('/').reply(300, fixture('glance-versions'));
    nock(GLANCE).get('/v2/images').query(true).times(3).reply(200, { images: [] });
    const { provider } = mockedProvider();
    const err = await caught(provider.resolveImage('rocky-9'));
    expect(err.code).toBe('NotFound');
    expect(err.message).toContain('os_distro=rocky');
  });
});
