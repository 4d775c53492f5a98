import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKumoError } from '../../../src/core/index.js';
import { fixture, IRONIC, KEYSTONE, mockedProvider, nock, root } from './helpers.js';

const inventory = () => ({ ...fixture('nodes-list-page1'), next: undefined });
const NODE_A = 'fd552b3e-55e0-4f2f-ab22-9326464186e4';
const NODE_B = '75d090f8-301a-468e-acbb-83c89479e758';
const request = {
  spec: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
  count: 1,
  idempotencyKey: 'web-1',
  pool: 'web',
};

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('bare-metal authentication', () => {
  it('takes a Keystone token and the baremetal endpoint from the catalog', async () => {
    nock(KEYSTONE)
      .post(
        '/v3/auth/tokens',
        (body: { auth: { identity: { password: { user: { name: string } } } } }) =>
          body.auth.identity.password.user.name === 'kumo',
      )
      .reply(201, fixture('keystone-auth-tokens-with-baremetal'), {
        'X-Subject-Token': 'gAAAA-fixture-token',
      });
    // The catalog's baremetal endpoint, not a configured one.
    nock('http://cloud.test:6385', { reqheaders: { 'X-Auth-Token': 'gAAAA-fixture-token' } })
      .get('/')
      .reply(200, root())
      .get('/v1/nodes')
      .query(true)
      .reply(200, inventory());
    const provider = mockedProvider({
      endpoint: undefined,
      auth: {
        type: 'keystone',
        authUrl: `${KEYSTONE}/v3`,
        username: 'kumo',
        password: 'not-a-real-password',
        projectName: 'kumo',
      },
    });
    const sizes = await provider.listSizes();
    expect(sizes.map((s) => [s.name, s.available])).toEqual([['bm-small', 2]]);
  });

  it('sends HTTP basic credentials when Ironic runs with auth_strategy http_basic', async () => {
    const basic = `Basic ${Buffer.from('ops:s3cret').toString('base64')}`;
    nock(IRONIC, { reqheaders: { Authorization: basic } })
      .get('/')
      .reply(200, root())
      .get('/v1/nodes')
      .query(true)
      .reply(200, inventory());
    const provider = mockedProvider({
      auth: { type: 'basic', username: 'ops', password: 's3cret' },
    });
    expect(await provider.listSizes()).toHaveLength(1);
  });

  it('reads the basic auth password from the environment variable a spec file names', async () => {
    process.env['KUMO_TEST_IRONIC_PASSWORD'] = 'from-env';
    try {
      const basic = `Basic ${Buffer.from('ops:from-env').toString('base64')}`;
      nock(IRONIC, { reqheaders: { Authorization: basic } })
        .get('/')
        .reply(200, root())
        .get('/v1/nodes')
        .query(true)
        .reply(200, inventory());
      const provider = mockedProvider({
        auth: { type: 'basic', username: 'ops', passwordEnv: 'KUMO_TEST_IRONIC_PASSWORD' },
      });
      expect(await provider.listSizes()).toHaveLength(1);
    } finally {
      delete process.env['KUMO_TEST_IRONIC_PASSWORD'];
    }
  });

  it('names the unset environment variable a password should come from', () => {
    delete process.env['KUMO_TEST_UNSET_PASSWORD'];
    expect(() =>
      mockedProvider({
        endpoint: undefined,
        auth: {
          type: 'keystone',
          authUrl: `${KEYSTONE}/v3`,
          username: 'kumo',
          passwordEnv: 'KUMO_TEST_UNSET_PASSWORD',
          projectName: 'kumo',
        },
      }),
    ).toThrow(/auth\.passwordEnv: the environment variable KUMO_TEST_UNSET_PASSWORD is not set/);
  });

  it('needs an endpoint unless Keystone can find one', () => {
    expect(() => mockedProvider({ endpoint: undefined })).toThrow(
      /endpoint: endpoint is required unless auth.type is keystone/,
    );
  });
});

describe('claiming nodes', () => {
  function claimFails(lastError: string) {
    let deleted = 0;
    nock(IRONIC).get('/').reply(200, root());
    nock(IRONIC)
      .get('/v1/nodes')
      .query(true)
      .times(2)
      .reply(200, inventory())
      .get('/v1/allocations')
      .query((q) => q.fields !== undefined)
      .reply(200, { allocations: [] })
      .post(
        '/v1/allocations',
        (body: {
          name: string;
          resource_class: string;
          candidate_nodes: string[];
          extra: unknown;
        }) =>
          body.resource_class === 'bm-small' &&
          body.candidate_nodes.length === 2 &&
          body.candidate_nodes.includes(NODE_A) &&
          body.candidate_nodes.includes(NODE_B),
      )
      .reply(201, { ...fixture('allocation-create-allocating'), resource_class: 'bm-small' })
      .get('/v1/allocations')
      .query(true)
      .reply(200, {
        allocations: [{ ...fixture('allocation-get-no-capacity'), last_error: lastError }],
      })
      .delete('/v1/allocations/feaebccf-a7e1-4312-a07a-0e0915c91a9c')
      .reply(() => {
        deleted += 1;
        return [204];
      });
    return () => deleted;
  }

  it('reports a claim Ironic could not meet as InsufficientCapacity with what was free, and drops the failed allocation', async () => {
    const deleted = claimFails(
      'Failed to process allocation feaebccf-a7e1-4312-a07a-0e0915c91a9c: none of the requested nodes are available and match the resource class bm-small.',
    );
    const err = await failure(mockedProvider({ retryAttempts: 1 }).createMachines(request));
    expect(isKumoError(err) && err.code).toBe('InsufficientCapacity');
    expect(String(err)).toMatch(
      /none of the requested nodes are available .*\(free now: bm-small: 2 free\)/,
    );
    expect(err).toMatchObject({ cause: { code: 'AllocationFailed' } });
    expect(deleted()).toBe(1);
  });

  it('treats nodes locked by concurrent work as a conflict worth retrying', async () => {
    claimFails('Failed to process allocation feaebccf: could not reserve any of 2 suitable nodes');
    const err = await failure(mockedProvider({ retryAttempts: 1 }).createMachines(request));
    expect(err).toMatchObject({
      code: 'Conflict',
      retryable: true,
      cause: { code: 'AllocationContention' },
    });
  });
});

describe('what bare metal refuses', () => {
  it('has no spot machines', async () => {
    const err = await failure(
      mockedProvider().createMachines({ ...request, spec: { ...request.spec, spot: true } }),
    );
    expect(err).toMatchObject({ code: 'ValidationError', issues: [{ path: 'spec.spot' }] });
  });

  it('has one zone', async () => {
    const err = await failure(
      mockedProvider({ zone: 'rack-a' }).createMachines({
        ...request,
        spec: { ...request.spec, zone: 'rack-b' },
      }),
    );
    expect(err).toMatchObject({ code: 'ValidationError', issues: [{ path: 'spec.zone' }] });
  });

  it('attaches only to its provisioning network, which it never creates', async () => {
    const provider = mockedProvider({ network: { name: 'provisioning', cidr: '10.20.0.0/16' } });
    expect(
      await provider.ensureNetwork({ name: 'provisioning', cidr: '10.20.0.0/16' }),
    ).toMatchObject({ id: 'provisioning', cidr: '10.20.0.0/16' });
    await expect(provider.ensureNetwork({ name: 'web', cidr: '10.42.0.0/16' })).rejects.toThrow(
      /bare metal cannot create networks.*"provisioning"/,
    );
    await expect(provider.deleteNetwork('provisioning')).resolves.toBeUndefined();
  });

  it('resolves configured images, URLs and Glance ids, and says how to add an alias it lacks', async () => {
    const provider = mockedProvider();
    expect(await provider.resolveImage('ubuntu-22.04')).toMatchObject({
      id: 'http://images.test/jammy.img',
      alias: 'ubuntu-22.04',
      os: 'ubuntu',
      version: '22.04',
      extra: { checksum: 'md5:0123456789abcdef0123456789abcdef' },
    });
    expect((await provider.resolveImage('https://images.test/custom.qcow2')).id).toBe(
      'https://images.test/custom.qcow2',
    );
    expect((await provider.resolveImage('0b3e7c1a-2d4f-4e6a-9b8c-1d2e3f4a5b6c')).id).toBe(
      '0b3e7c1a-2d4f-4e6a-9b8c-1d2e3f4a5b6c',
    );
    await expect(provider.resolveImage('debian-12')).rejects.toThrow(
      /not configured for bare metal; add it to the provider's images/,
    );
    await expect(provider.resolveImage('no-such-os')).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('calls a machine id that is no instance UUID invalid, and deleting one that never was fine', async () => {
    const provider = mockedProvider();
    await expect(provider.getMachine('i-123')).rejects.toMatchObject({ code: 'ValidationError' });
    nock(IRONIC).get('/').reply(200, root());
    nock(IRONIC)
      .get('/v1/nodes')
      .query(true)
      .reply(200, { nodes: [] })
      .get('/v1/allocations')
      .query(true)
      .reply(200, { allocations: [] });
    await expect(
      provider.deleteMachines(['0b3e7c1a-2d4f-4e6a-9b8c-1d2e3f4a5b6c']),
    ).resolves.toBeUndefined();
  });
});
