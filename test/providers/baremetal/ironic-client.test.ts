import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../../src/clients/openstack/http.js';
import { IronicClient, IronicVersionError } from '../../../src/clients/openstack/ironic-client.js';
import { ironicFault } from '../../../src/clients/openstack/ironic-errors.js';
import { chooseMicroversion } from '../../../src/clients/openstack/ironic-version.js';
import { fixture, IRONIC, ironicError, nock, root } from './helpers.js';

const client = (microversion?: string) =>
  new IronicClient({
    transport: new HttpTransport(),
    endpoint: IRONIC,
    ...(microversion === undefined ? {} : { microversion }),
  });

beforeEach(() => nock.disableNetConnect());
afterEach(() => {
  nock.cleanAll();
  nock.enableNetConnect();
});

describe('Ironic microversions', () => {
  it('speaks the newest version both sides know and sends it on every call', async () => {
    nock(IRONIC).get('/').reply(200, root('1.82'));
    const api = nock(IRONIC, { reqheaders: { 'X-OpenStack-Ironic-API-Version': '1.82' } })
      .get('/v1/nodes/detail')
      .reply(200, { nodes: [] })
      .get('/v1/allocations')
      .reply(200, { allocations: [] });
    const ironic = client();
    await ironic.listNodes();
    await ironic.listAllocations();
    expect(api.isDone()).toBe(true);
    expect(ironic.versionInfo).toEqual({ version: '1.82', serverMin: '1.1', serverMax: '1.82' });
  });

  it('stays at 1.82 when the server offers newer', async () => {
    nock(IRONIC).get('/').reply(200, root('1.95'));
    nock(IRONIC, { reqheaders: { 'X-OpenStack-Ironic-API-Version': '1.82' } })
      .get('/v1/nodes/detail')
      .reply(200, { nodes: [] });
    await client().listNodes();
  });

  it('speaks an older server’s newest version and knows which features it lacks', async () => {
    nock(IRONIC).get('/').reply(200, root('1.46'));
    const ironic = client();
    expect(await ironic.supports('traits')).toBe(true);
    expect(await ironic.supports('allocations')).toBe(false);
    expect(await ironic.supports('configDriveJson')).toBe(false);
  });

  it('refuses a pinned version outside the server’s range, naming the range', async () => {
    nock(IRONIC).get('/').reply(200, root('1.82'));
    await expect(client('1.90').negotiate()).rejects.toThrow(
      /1\.90 is outside the server's range 1\.1–1\.82/,
    );
  });

  it('refuses a server older than kumo can work with', async () => {
    nock(IRONIC).get('/').reply(200, root('1.16'));
    const err = await client()
      .negotiate()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IronicVersionError);
    expect(String(err)).toMatch(/kumo needs at least 1\.21/);
  });

  it('checks pinned versions and ranges without a server', () => {
    expect(chooseMicroversion({ min: '1.1', max: '1.82' }, '1.56')).toEqual({ version: '1.56' });
    expect(chooseMicroversion({ min: '1.1', max: '1.82' }, '2.0')).toHaveProperty('error');
    expect(chooseMicroversion({ min: '1.1', max: '1.82' }, 'latest')).toEqual({
      error: 'microversion "latest" is not of the form 1.N',
    });
  });
});

describe('Ironic lists', () => {
  it('follows next links by their marker on its own endpoint, with fields joined by commas', async () => {
    nock(IRONIC).get('/').reply(200, root());
    const fields = 'uuid,name,provision_state';
    const page1 = fixture('nodes-list-page1') as { next: string };
    // The server builds links from its own idea of its host; kumo keeps talking to the endpoint it was given.
    page1.next = page1.next.replace(IRONIC, 'http://controller.internal:6385');
    const marker = new URL(page1.next).searchParams.get('marker');
    nock(IRONIC).get('/v1/nodes').query({ fields }).reply(200, page1);
    nock(IRONIC)
      .get('/v1/nodes')
      .query((q) => q.marker === marker && q.fields !== undefined)
      .reply(200, { ...fixture('nodes-list-page2'), next: undefined });
    const nodes = await client().listNodes({ fields: ['uuid', 'name', 'provision_state'] });
    expect(nodes.map((n) => n.name)).toEqual([
      'bm-small-07',
      'bm-small-06',
      'bm-small-08',
      'bm-small-04',
    ]);
  });
});

describe('Ironic faults', () => {
  const cases: [string, number, Record<string, unknown>, string][] = [
    ['a node busy with another operation', 409, fixture('node-patch-locked'), 'NodeLocked'],
    [
      'a state change the node cannot make',
      400,
      fixture('node-provision-invalid-state'),
      'InvalidState',
    ],
    ['a node that is not there', 404, fixture('node-get-not-found'), 'NotFound'],
    [
      'a microversion the server does not speak',
      406,
      fixture('nodes-list-version-not-supported'),
      'VersionNotSupported',
    ],
    [
      'a claimed node',
      409,
      ironicError('Node 6c1e… is associated with instance 0f4e….'),
      'NodeAssociated',
    ],
    [
      'a name in use',
      409,
      ironicError('A node with name bm-small-01 already exists.'),
      'Duplicate',
    ],
  ];
  for (const [what, status, body, fault] of cases)
    it(`recognises ${what} (${fault})`, async () => {
      nock(IRONIC).get('/').reply(200, root());
      nock(IRONIC).get('/v1/nodes/x').reply(status, body, { 'Openstack-Request-Id': 'req-1' });
      const err = await client()
        .getNode('x')
        .catch((e: unknown) => e);
      expect(ironicFault(err)).toBe(fault);
      expect(err).toMatchObject({ status, requestId: 'req-1' });
    });
});
