import nock from 'nock';
import { afterEach, describe, expect, it } from 'vitest';
import {
  HttpTransport,
  OpenStackApiError,
  parseErrorBody,
  parseRetryAfter,
  ServiceClient,
} from '../../../src/clients/openstack/http.js';
import { KeystoneSession, selectEndpoint } from '../../../src/clients/openstack/keystone.js';
import { fixture, KEYSTONE } from './helpers.js';

afterEach(() => nock.cleanAll());

describe('openstack wire client', () => {
  it.each([
    [
      'Nova',
      '{"forbidden": {"code": 403, "message": "Quota exceeded for instances"}}',
      'forbidden',
      'Quota exceeded for instances',
    ],
    [
      'Neutron',
      '{"NeutronError": {"type": "OverQuota", "message": "Quota exceeded for resources: [\'network\'].", "detail": ""}}',
      'OverQuota',
      "Quota exceeded for resources: ['network'].",
    ],
    [
      'Keystone',
      '{"error":{"code":401,"message":"The request you have made requires authentication.","title":"Unauthorized"}}',
      'Unauthorized',
      'The request you have made requires authentication.',
    ],
    [
      'Placement',
      '{"errors": [{"status": 409, "title": "Conflict", "detail": "resource provider generation conflict", "code": "placement.concurrent_update"}]}',
      'placement.concurrent_update',
      'resource provider generation conflict',
    ],
    [
      'Ironic',
      '{"error_message": "{\\"faultstring\\": \\"Node abc is locked by host x\\", \\"faultcode\\": \\"Client\\"}"}',
      'Client',
      'Node abc is locked by host x',
    ],
    [
      'Glance',
      '404 Not Found\n\nNo image found with ID abc\n\n',
      undefined,
      '404 Not Found No image found with ID abc',
    ],
  ])('reads a %s error body', (_service, body, code, message) => {
    const parsed = parseErrorBody(body);
    expect(parsed.code).toBe(code);
    expect(parsed.message).toBe(message);
  });

  it('reads Retry-After as seconds or as an HTTP date', () => {
    expect(parseRetryAfter('5')).toBe(5000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('follows next links over pages, on its own base URL, with the link’s marker', async () => {
    nock('http://cloud.test:8774')
      .get('/v2.1/servers/detail')
      .query({ limit: '2' })
      .reply(200, {
        servers: [{ id: 'a' }, { id: 'b' }],
        servers_links: [
          { rel: 'next', href: 'https://internal-name:8774/v2.1/servers/detail?limit=2&marker=b' },
        ],
      })
      .get('/v2.1/servers/detail')
      .query({ limit: '2', marker: 'b' })
      .reply(200, { servers: [{ id: 'c' }] });
    const client = new ServiceClient({
      service: 'compute',
      transport: new HttpTransport(),
      baseUrl: 'http://cloud.test:8774/v2.1',
    });
    const items = await client.all<
      { servers: { id: string }[]; servers_links?: { rel: string; href: string }[] },
      { id: string }
    >('/servers/detail', {
      query: { limit: 2 },
      extract: (p) => ({
        items: p.servers,
        next: p.servers_links?.find((l) => l.rel === 'next')?.href,
      }),
    });
    expect(items.map((i) => i.id)).toEqual(['a', 'b', 'c']);
  });

  it('raises OpenStackApiError with status, code and request id', async () => {
    nock('http://cloud.test:9696')
      .get('/v2.0/networks/x')
      .reply(
        404,
        {
          NeutronError: {
            type: 'NetworkNotFound',
            message: 'Network x could not be found.',
            detail: '',
          },
        },
        { 'X-Openstack-Request-Id': 'req-n1' },
      );
    const client = new ServiceClient({
      service: 'network',
      transport: new HttpTransport(),
      baseUrl: 'http://cloud.test:9696/v2.0',
    });
    const err = await client.get('/networks/x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenStackApiError);
    expect(err).toMatchObject({ status: 404, code: 'NetworkNotFound', requestId: 'req-n1' });
  });

  it('sends an application credential without a scope', async () => {
    let body: { auth: Record<string, unknown> } | undefined;
    nock(KEYSTONE)
      .post('/v3/auth/tokens', (b) => ((body = b), true))
      .reply(201, fixture('keystone-auth-tokens-password'), { 'X-Subject-Token': 't' });
    const session = new KeystoneSession({
      transport: new HttpTransport(),
      auth: {
        type: 'applicationCredential',
        authUrl: `${KEYSTONE}/v3`,
        applicationCredentialId: 'ac1',
        secret: 's',
      },
    });
    await session.token();
    expect(body?.auth).toEqual({
      identity: {
        methods: ['application_credential'],
        application_credential: { id: 'ac1', secret: 's' },
      },
    });
  });

  it('finds Keystone v3 from an unversioned auth URL', async () => {
    nock(KEYSTONE).get('/').reply(300, fixture('keystone-versions'));
    const token = nock(KEYSTONE)
      .post('/v3/auth/tokens')
      .reply(201, fixture('keystone-auth-tokens-password'), { 'X-Subject-Token': 't' });
    const session = new KeystoneSession({
      transport: new HttpTransport(),
      auth: {
        type: 'password',
        authUrl: KEYSTONE,
        username: 'u',
        password: 'p',
        projectName: 'kumo',
      },
    });
    await session.token();
    expect(token.isDone()).toBe(true);
    expect(session.tokenInfo?.projectName).toBe('kumo');
  });

  it('picks the catalog endpoint by type, interface and region, and says what is offered otherwise', () => {
    const catalog = (
      fixture('keystone-auth-tokens-password') as {
        token: { catalog: Parameters<typeof selectEndpoint>[0] };
      }
    ).token.catalog;
    expect(selectEndpoint(catalog, 'compute', 'internal', 'RegionOne')).toBe(
      'http://cloud.test:8774/v2.1',
    );
    expect(() => selectEndpoint(catalog, 'compute', 'public', 'RegionTwo')).toThrow(
      /no public "compute" endpoint in region RegionTwo \(offered: .*public@RegionOne/,
    );
    expect(() => selectEndpoint(catalog, 'volumev3', 'public', undefined)).toThrow(
      /no "volumev3" service \(it has: compute, identity, image, network, placement\)/,
    );
  });

  it('re-authenticates before the token expires', async () => {
    const auth = nock(KEYSTONE)
      .post('/v3/auth/tokens')
      .twice()
      .reply(201, fixture('keystone-auth-tokens-password'), { 'X-Subject-Token': 't' });
    let now = Date.now();
    const clock = { now: () => now, schedule: () => () => {}, sleep: () => Promise.resolve() };
    const session = new KeystoneSession({
      transport: new HttpTransport(),
      clock,
      auth: { type: 'password', authUrl: `${KEYSTONE}/v3`, username: 'u', password: 'p' },
    });
    await session.token();
    await session.token();
    expect(session.authentications).toBe(1);
    now = session.tokenInfo!.expiresAt - 60_000; // inside the 2-minute margin
    await session.token();
    expect(session.authentications).toBe(2);
    expect(auth.isDone()).toBe(true);
  });
});
