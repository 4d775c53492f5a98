/**
 * Replays Compute Engine responses as Google documents them (one JSON file per response
 * in ./fixtures) through the official client, and checks what kumo makes of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import nock from 'nock';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gcp } from '../../../src/providers/gcp/index.js';
import { COMPUTE_ORIGIN, testAuthClient } from '../../fakes/gce/index.js';
import { caught } from '../../support/caught.js';

const P = '/compute/v1/projects/acme-prod';

function fixture(name: string): Record<string, unknown> {
  return JSON.parse(
    readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8'),
  ) as Record<string, unknown>;
}

function provider(extra: Partial<Parameters<typeof gcp>[0]> = {}) {
  return gcp({
    project: 'acme-prod',
    region: 'us-central1',
    zones: ['us-central1-a', 'us-central1-b', 'us-central1-c'],
    authClient: testAuthClient(),
    retry: { attempts: 1, baseMs: 1, maxMs: 1 },
    ...extra,
  });
}

/** The catalog calls every provider makes first: the same machine types and GPUs in each zone. */
function catalog(scope: nock.Scope): nock.Scope {
  return scope
    .get(/\/zones\/us-central1-[abc]\/machineTypes/)
    .times(3)
    .reply(200, fixture('machinetypes-list-us-central1-a'))
    .get(/\/zones\/us-central1-[abc]\/acceleratorTypes/)
    .times(3)
    .reply(200, fixture('acceleratortypes-list-us-central1-a'));
}

beforeEach(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  expect(nock.pendingMocks()).toEqual([]);
  nock.cleanAll();
});

describe('reading instances', () => {
  it('maps a running instance: zone, size, resources, addresses, decoded labels, image and price', async () => {
    const scope = catalog(nock(COMPUTE_ORIGIN))
      .get(`${P}/zones/us-central1-b/instances/web-3f2a1b0c-0`)
      .reply(200, fixture('instances-get-running'));
    const m = await provider().getMachine('us-central1-b/web-3f2a1b0c-0');
    expect(m).toMatchObject({
      id: 'web-3f2a1b0c-0',
      providerId: 'us-central1-b/web-3f2a1b0c-0',
      provider: 'gcp',
      region: 'us-central1',
      zone: 'us-central1-b',
      size: 'e2-standard-4',
      resources: { cpus: 4, memoryMiB: 16384, gpus: 0, diskGiB: 50 },
      state: 'running',
      spot: false,
      image:
        'https://www.googleapis.com/compute/v1/projects/ubuntu-os-cloud/global/images/ubuntu-2204-jammy-v20240927',
      createdAt: '2024-06-01T10:12:45.123Z',
    });
    expect(m.addresses).toEqual([
      { type: 'private', address: '10.42.1.7' },
      { type: 'public', address: '34.121.8.77' },
    ]);
    expect(m.labels).toMatchObject({
      'kumo-dc': 'prod',
      'kumo-pool': 'web',
      'kumo-key': 'web-2024-06-01',
      team: 'Data Eng',
    });
    expect(m.pricePerHour).toBeCloseTo(4 * 0.021811 + 16 * 0.002923, 6);
    scope.done();
  });

  it('reads a preempted Spot VM as a stopped spot machine sized by its custom type', async () => {
    catalog(nock(COMPUTE_ORIGIN))
      .get(`${P}/zones/us-central1-a/instances/batch-77aa10fe-3`)
      .reply(200, fixture('instances-get-spot-preempted'));
    const m = await provider().getMachine('us-central1-a/batch-77aa10fe-3');
    expect(m.state).toBe('stopped');
    expect(m.spot).toBe(true);
    expect(m.size).toBe('n2-custom-6-12288');
    expect(m.resources).toEqual({ cpus: 6, memoryMiB: 12288, gpus: 0, diskGiB: 10 });
    expect(m.addresses).toEqual([{ type: 'private', address: '10.128.0.19' }]);
    // Made in bulk, it has no kumo-id label: its instance name is its id.
    expect(m.labels['kumo-id']).toBe('batch-77aa10fe-3');
    const onDemand = 6 * 0.033191 + 12 * 0.004449;
    expect(m.pricePerHour).toBeGreaterThan(0);
    expect(m.pricePerHour).toBeLessThan(onDemand);
  });

  it('follows aggregatedList pages by nextPageToken and leaves out other regions', async () => {
    const pages: string[] = [];
    catalog(nock(COMPUTE_ORIGIN))
      .get(`${P}/aggregated/instances`)
      .query(true)
      .times(2)
      .reply((uri) => {
        pages.push(uri);
        return [
          200,
          fixture(
            uri.includes('pageToken')
              ? 'instances-aggregatedlist-page-2'
              : 'instances-aggregatedlist-page-1',
          ),
        ];
      });
    const machines = await provider().listMachines({ labels: { 'kumo-key': 'batch-7' } });
    expect(machines.map((m) => [m.providerId, m.state, m.size])).toEqual([
      ['us-central1-a/batch-77aa10fe-0', 'running', 'e2-standard-2'],
      ['us-central1-c/batch-77aa10fe-1', 'pending', 'e2-custom-4-5120'],
    ]);
    expect(pages).toHaveLength(2);
    expect(decodeURIComponent(pages[0]!)).toContain('filter=(labels.kumo-key = "batch-7")');
    expect(pages[1]).toContain('pageToken=CkQIqI');
    // e2-standard-2 is not in the fixture's machine types: resources unknown, not invented.
    expect(machines[0]!.resources.cpus).toBe(0);
    expect(machines[1]!.resources).toMatchObject({ cpus: 4, memoryMiB: 5120 });
  });
});

describe('listing sizes and zones', () => {
  it('turns machine types into sizes: shared cores at their sustained share, GPUs counted, Arm marked, obsolete types dropped', async () => {
    catalog(nock(COMPUTE_ORIGIN));
    const sizes = await provider().listSizes();
    const byName = new Map(sizes.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual([
      'e2-medium',
      'e2-standard-4',
      'g2-standard-4',
      't2a-standard-2',
    ]);
    expect(byName.get('e2-medium')).toMatchObject({
      resources: { cpus: 1, memoryMiB: 4096 },
      pricePerHour: 0.033503,
      extra: { guestCpus: 2, sharedCpu: true },
    });
    expect(byName.get('g2-standard-4')).toMatchObject({
      resources: { gpus: 1 },
      pricePerHour: 0.706832,
      extra: { accelerators: [{ type: 'nvidia-l4', count: 1 }] },
    });
    expect(byName.get('t2a-standard-2')?.arch).toBe('arm64');
    expect(byName.get('e2-standard-4')?.zones).toEqual([
      'us-central1-a',
      'us-central1-b',
      'us-central1-c',
    ]);
  });

  it('uses only the zones of its region that are UP', async () => {
    nock(COMPUTE_ORIGIN)
      .get(`${P}/zones`)
      .query(true)
      .reply(200, fixture('zones-list-two-regions'));
    const p = gcp({ project: 'acme-prod', region: 'us-central1', authClient: testAuthClient() });
    expect(await p.zones()).toEqual(['us-central1-a']);
  });
});

describe('resolving images', () => {
  it('resolves an alias through images.getFromFamily on the public image project', async () => {
    nock(COMPUTE_ORIGIN)
      .get('/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts')
      .reply(200, fixture('images-getfromfamily-ubuntu-2204-lts'));
    const image = await provider().resolveImage('ubuntu-22.04');
    expect(image).toMatchObject({
      id: 'https://www.googleapis.com/compute/v1/projects/ubuntu-os-cloud/global/images/ubuntu-2204-jammy-v20240927',
      name: 'ubuntu-2204-jammy-v20240927',
      alias: 'ubuntu-22.04',
      os: 'ubuntu',
      version: '22.04',
      arch: 'x86_64',
      createdAt: '2024-09-27T17:21:33.581Z',
      extra: { family: 'ubuntu-2204-lts', diskSizeGb: 10, status: 'READY' },
    });
  });

  it('refuses an obsolete image as NotFound, naming its replacement', async () => {
    nock(COMPUTE_ORIGIN)
      .get('/compute/v1/projects/ubuntu-os-cloud/global/images/ubuntu-1804-bionic-v20190201')
      .reply(200, fixture('images-get-obsolete'));
    const err = await caught(
      provider().resolveImage(
        'projects/ubuntu-os-cloud/global/images/ubuntu-1804-bionic-v20190201',
      ),
    );
    expect(err.code).toBe('NotFound');
    expect(err.message).toContain('ubuntu-1804-bionic-v20230530');
  });
});

describe('creating machines', () => {
  const request = {
    spec: { size: 'e2-standard-4', image: 'ubuntu-22.04', zone: 'us-central1-b' },
    count: 1,
    idempotencyKey: 'web-2024-06-01',
    dc: 'prod',
    pool: 'web',
    namePrefix: 'web-3f2a1b0c',
  };

  function aggregatedWith(instance: Record<string, unknown>): Record<string, unknown> {
    return {
      kind: 'compute#instanceAggregatedList',
      id: 'projects/acme-prod/aggregated/instances',
      items: { 'zones/us-central1-b': { instances: [instance] } },
    };
  }

  it('inserts with a UUID request id, waits on the operation with zoneOperations.wait, then reads the machine', async () => {
    let inserted: { query: string; body: Record<string, unknown> } | undefined;
    let waited = '';
    catalog(nock(COMPUTE_ORIGIN))
      .get('/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts')
      .reply(200, fixture('images-getfromfamily-ubuntu-2204-lts'))
      .post(`${P}/zones/us-central1-b/instances`)
      .query(true)
      .reply((uri, body) => {
        inserted = { query: uri, body: body as Record<string, unknown> };
        return [200, fixture('instances-insert-running')];
      })
      .post(/\/zones\/us-central1-b\/operations\/[^/]+\/wait/)
      .reply((uri) => {
        waited = uri;
        return [200, fixture('zoneoperations-wait-done')];
      })
      .get(`${P}/aggregated/instances`)
      .query(true)
      .reply(200, aggregatedWith(fixture('instances-get-running')));
    const [m] = await provider().createMachines(request);
    expect(m).toMatchObject({ id: 'web-3f2a1b0c-0', state: 'running', zone: 'us-central1-b' });
    expect(inserted?.query).toMatch(
      /requestId=[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/,
    );
    expect(inserted?.body).toMatchObject({
      name: 'web-3f2a1b0c-0',
      machineType: 'zones/us-central1-b/machineTypes/e2-standard-4',
      labels: {
        'kumo-dc': 'prod',
        'kumo-pool': 'web',
        'kumo-key': 'web-2024-06-01',
        'kumo-id': 'web-3f2a1b0c-0',
      },
      scheduling: { provisioningModel: 'STANDARD' },
    });
    expect(waited).toContain('operation-1717236765000-61a0e0b6a3b2c-6b2d1a5e-97a6f7c1/wait');
  });

  it('surfaces ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS inside a DONE operation as InsufficientCapacity', async () => {
    catalog(nock(COMPUTE_ORIGIN))
      .get('/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts')
      .reply(200, fixture('images-getfromfamily-ubuntu-2204-lts'))
      .post(`${P}/zones/us-central1-b/instances`)
      .query(true)
      .reply(200, fixture('instances-insert-running'))
      .post(/\/operations\/[^/]+\/wait/)
      .reply(200, fixture('zoneoperations-wait-zone-resource-pool-exhausted'));
    const err = await caught(provider().createMachines(request));
    expect(err.code).toBe('InsufficientCapacity');
    expect(err.toJSON()['cause']).toMatchObject({
      code: 'ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS',
      status: 503,
      requestId: 'operation-1717237001000-61a0e1979c3f1-0a5c93e2-4cf1a3b8',
    });
  });

  it('surfaces QUOTA_EXCEEDED inside a DONE bulkInsert operation as QuotaExceeded', async () => {
    let bulk: Record<string, unknown> | undefined;
    catalog(nock(COMPUTE_ORIGIN))
      .get('/compute/v1/projects/ubuntu-os-cloud/global/images/family/ubuntu-2204-lts')
      .reply(200, fixture('images-getfromfamily-ubuntu-2204-lts'))
      .post(`${P}/zones/us-central1-c/instances/bulkInsert`)
      .query(true)
      .reply((_uri, body) => {
        bulk = body as Record<string, unknown>;
        return [200, { ...fixture('instances-insert-running'), operationType: 'bulkInsert' }];
      })
      .post(/\/operations\/[^/]+\/wait/)
      .reply(200, fixture('zoneoperations-wait-quota-exceeded'));
    const err = await caught(
      provider().createMachines({
        ...request,
        count: 8,
        spec: { ...request.spec, zone: 'us-central1-c' },
      }),
    );
    expect(err.code).toBe('QuotaExceeded');
    expect(err.message).toContain("Quota 'CPUS' exceeded");
    expect(bulk).toMatchObject({
      count: '8',
      minCount: '8',
      instanceProperties: { machineType: 'e2-standard-4' },
    });
    expect(Object.keys(bulk?.['perInstanceProperties'] as object)).toEqual(
      Array.from({ length: 8 }, (_, i) => `web-3f2a1b0c-${i}`),
    );
  });
});

describe('mapping HTTP errors', () => {
  const cases: [string, number, string, boolean][] = [
    ['error-404-not-found', 404, 'NotFound', false],
    ['error-429-rate-limit-exceeded', 429, 'Throttled', true],
    ['error-403-rate-limit-exceeded', 403, 'Throttled', true],
    ['error-403-forbidden', 403, 'AuthError', false],
    ['error-401-unauthenticated', 401, 'AuthError', false],
    ['error-400-invalid-machine-type', 400, 'ValidationError', false],
    ['error-409-already-exists', 409, 'Conflict', false],
    ['error-400-resource-in-use', 400, 'Conflict', false],
    ['error-503-backend-error', 503, 'ProviderError', true],
  ];
  for (const [name, status, code, retryable] of cases) {
    it(`${name} → ${code}${retryable ? ' (retryable)' : ''}`, async () => {
      nock(COMPUTE_ORIGIN)
        .get(`${P}/zones/us-central1-a/instances/web-0`)
        .reply(status, fixture(name));
      const err = await caught(provider().getMachine('us-central1-a/web-0'));
      expect(err.code).toBe(code);
      expect(err.retryable).toBe(retryable);
      expect(err.provider).toBe('gcp');
      const json = JSON.stringify(err.toJSON());
      expect(json).toContain(`"status":${status}`);
      expect(json).not.toContain('test-access-token');
      expect(JSON.stringify(err.cause)).not.toContain('Bearer');
    });
  }

  it('retries 503 and 429 itself, which the client library does not over REST', async () => {
    const statuses: number[] = [];
    catalog(nock(COMPUTE_ORIGIN))
      .get(`${P}/zones/us-central1-b/instances/web-3f2a1b0c-0`)
      .times(3)
      .reply(() => {
        const next = [503, 429, 200][statuses.length]!;
        statuses.push(next);
        return next === 200
          ? [200, fixture('instances-get-running')]
          : [
              next,
              fixture(next === 503 ? 'error-503-backend-error' : 'error-429-rate-limit-exceeded'),
            ];
      });
    const m = await provider({ retry: { attempts: 4, baseMs: 1, maxMs: 5 } }).getMachine(
      'us-central1-b/web-3f2a1b0c-0',
    );
    expect(m.state).toBe('running');
    expect(statuses).toEqual([503, 429, 200]);
  });
});
