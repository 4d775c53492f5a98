/**
 * The provider against EC2's responses as AWS documents them, replayed from
 * ./fixtures: the official SDK parses each file and kumo maps what it parsed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  isKumoError,
  machineNamePrefix,
  VirtualClock,
  type ErrorCode,
} from '../../../src/core/index.js';
import { aws } from '../../../src/providers/aws/index.js';
import { EBS_MAX_GIB } from '../../../src/providers/aws/aws-mapper.js';
import { testCredentials } from '../../fakes/ec2/index.js';
import { replay, type Replay } from './replay.js';

const CATALOG = {
  DescribeInstanceTypes: [
    { fixture: 'describe-instance-types-page1.xml' },
    { fixture: 'describe-instance-types-page2.xml' },
  ],
  DescribeInstanceTypeOfferings: [{ fixture: 'describe-instance-type-offerings-zones.xml' }],
};

let active: Replay | undefined;
afterEach(() => active?.stop());

function provider(options: { maxAttempts?: number } = {}) {
  return aws(
    {
      region: 'us-east-1',
      credentials: testCredentials(),
      retryMode: 'standard',
      maxAttempts: options.maxAttempts ?? 1,
      methodAttempts: 1,
    },
    { clock: new VirtualClock({ start: Date.UTC(2026, 0, 5), autoAdvance: true }) },
  );
}

describe('fixture replay: DescribeInstances', () => {
  it('lists every machine across reservations and pages, named and labelled from their tags', async () => {
    active = replay({
      ...CATALOG,
      DescribeInstances: [
        { fixture: 'describe-instances-page1.xml' },
        { fixture: 'describe-instances-page2.xml' },
      ],
    });
    const machines = await provider().listMachines({
      states: ['pending', 'running', 'stopping', 'stopped', 'terminated', 'error'],
    });
    expect(machines.map((m) => [m.providerId, m.id, m.state])).toEqual([
      ['i-1234567890abcdef0', 'web-1a2b3c4d-1', 'running'],
      ['i-0598c7d356eba48d7', 'web-1a2b3c4d-0', 'pending'],
      ['i-0ab12cd34ef567890', 'batch-5e6f7a8b-0', 'stopped'],
      ['i-0fedcba9876543210', 'batch-9c0d1e2f-0', 'terminated'],
    ]);
    const [web, , batch, reclaimed] = machines;
    expect(web).toMatchObject({
      provider: 'aws',
      region: 'us-east-1',
      zone: 'us-east-1a',
      size: 'm6i.large',
      image: 'ami-04b70fa74e45c3917',
      spot: false,
      resources: { cpus: 2, memoryMiB: 8192, gpus: 0, diskGiB: 0 },
      pricePerHour: 0.096,
      createdAt: '2026-01-01T10:44:09.000Z',
      addresses: [
        { type: 'private', address: '10.60.1.88' },
        { type: 'public', address: '54.194.252.215' },
      ],
    });
    expect(web!.labels).toEqual({
      'kumo-dc': 'prod',
      'kumo-pool': 'web',
      'kumo-key': 'web-2026-01-01',
      'kumo-id': 'web-1a2b3c4d-1',
      role: 'web',
    });
    expect(batch).toMatchObject({
      spot: true,
      size: 'c6i.large',
      resources: { cpus: 2, memoryMiB: 4096, diskGiB: 100 },
    });
    expect(batch!.error).toBeUndefined();
    expect(reclaimed).toMatchObject({
      spot: true,
      error: 'Server.SpotInstanceTermination: Spot instance termination',
    });
    const [first, second] = active.sent.get('DescribeInstances')!;
    expect(first!.get('Filter.1.Name')).toBe('tag-key');
    expect(first!.get('Filter.1.Value.1')).toBe('kumo-key');
    expect(first!.get('MaxResults')).toBe('1000');
    expect(first!.has('NextToken')).toBe(false);
    expect(second!.get('NextToken')).toBe('eyJ2IjoiMiIsImMiOiJwYWdlLTIifQ');
  });
});

describe('fixture replay: DescribeInstanceTypes', () => {
  it('builds sizes from every page, with zones from the offerings and bundled prices', async () => {
    active = replay(CATALOG);
    const sizes = await provider().listSizes();
    expect(sizes.map((s) => s.name)).toEqual([
      'c6i.large',
      'g4dn.xlarge',
      'm6i.large',
      'm7g.large',
    ]);
    const byName = Object.fromEntries(sizes.map((s) => [s.name, s]));
    expect(byName['g4dn.xlarge']).toMatchObject({
      resources: { cpus: 4, memoryMiB: 16384, gpus: 1, diskGiB: 125 },
      zones: ['us-east-1b'],
      pricePerHour: 0.526,
      spot: true,
      extra: { storage: 'instance-store', gpuModel: 'T4' },
    });
    expect(byName['m6i.large']).toMatchObject({
      arch: 'x86_64',
      zones: ['us-east-1a', 'us-east-1b'],
      resources: { diskGiB: EBS_MAX_GIB },
      extra: { storage: 'ebs' },
    });
    expect(byName['m7g.large']).toMatchObject({ arch: 'arm64', pricePerHour: 0.0816 });
    const [first, second] = active.sent.get('DescribeInstanceTypes')!;
    expect(first!.get('Filter.1.Name')).toBe('current-generation');
    expect(second!.get('NextToken')).toBe('AAEAAbKqv2ExampleToken');
    expect(active.sent.get('DescribeInstanceTypeOfferings')![0]!.get('LocationType')).toBe(
      'availability-zone',
    );
  });
});

describe('fixture replay: RunInstances', () => {
  it('names the instances of a launch by their launch index, whatever order EC2 lists them in', async () => {
    active = replay({
      ...CATALOG,
      DescribeImages: [{ fixture: 'describe-images-jammy.xml' }],
      DescribeInstances: [{ fixture: 'describe-instances-empty.xml' }],
      RunInstances: [{ fixture: 'run-instances-two.xml' }],
      CreateTags: [{ fixture: 'create-tags-ok.xml' }, { fixture: 'create-tags-ok.xml' }],
    });
    const request = {
      spec: { size: 'm6i.large', zone: 'us-east-1a', image: 'ubuntu-22.04' },
      count: 2,
      idempotencyKey: 'web-2026-01-01',
      dc: 'prod',
      pool: 'web',
    };
    const machines = await provider().createMachines(request, { wait: false });
    const prefix = machineNamePrefix(request);
    expect(machines.map((m) => [m.id, m.providerId, m.state])).toEqual([
      [`${prefix}-0`, 'i-1234567890abcdef0', 'pending'],
      [`${prefix}-1`, 'i-0598c7d356eba48d7', 'pending'],
    ]);
    const run = active.sent.get('RunInstances')![0]!;
    expect(run.get('ImageId')).toBe('ami-04b70fa74e45c3917'); // the newer of the two jammy images
    expect([run.get('MinCount'), run.get('MaxCount')]).toEqual(['2', '2']);
    expect(run.get('Placement.AvailabilityZone')).toBe('us-east-1a');
    expect(run.get('ClientToken')).toMatch(/^kumo-[0-9a-f]{40}-0$/);
    expect(run.get('TagSpecification.1.ResourceType')).toBe('instance');
    expect(run.get('TagSpecification.2.ResourceType')).toBe('volume');
    const tagged = active.sent
      .get('CreateTags')!
      .map((p) => [p.get('ResourceId.1'), p.get('Tag.1.Key'), p.get('Tag.1.Value')]);
    expect(tagged.sort()).toEqual([
      ['i-0598c7d356eba48d7', 'kumo-id', `${prefix}-1`],
      ['i-1234567890abcdef0', 'kumo-id', `${prefix}-0`],
    ]);
    expect(active.left()).toEqual({});
  });
});

describe('fixture replay: error responses', () => {
  const cases: [string, number, ErrorCode, boolean][] = [
    ['error-auth-failure.xml', 401, 'AuthError', false],
    ['error-unauthorized-operation.xml', 403, 'AuthError', false],
    ['error-request-limit-exceeded.xml', 503, 'Throttled', true],
    ['error-instance-limit-exceeded.xml', 400, 'QuotaExceeded', false],
    ['error-vcpu-limit-exceeded.xml', 400, 'QuotaExceeded', false],
    ['error-insufficient-instance-capacity.xml', 500, 'InsufficientCapacity', false],
    ['error-invalid-parameter-value.xml', 400, 'ValidationError', false],
    ['error-instance-not-found.xml', 400, 'NotFound', false],
    ['error-idempotent-parameter-mismatch.xml', 400, 'Conflict', false],
    ['error-dependency-violation.xml', 400, 'Conflict', false],
    ['error-internal-error.xml', 500, 'ProviderError', true],
  ];
  for (const [file, status, code, retryable] of cases) {
    it(`maps ${file.replace(/^error-|\.xml$/g, '')} to ${code} with the EC2 code and request id in cause`, async () => {
      active = replay({ DescribeInstances: [{ fixture: file, status }] });
      const caught = await provider()
        .getMachine('i-0123456789abcdef0')
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(isKumoError(caught)).toBe(true);
      if (!isKumoError(caught)) return;
      const xml = (await import('./replay.js')).fixture(file);
      const awsCode = /<Code>([^<]+)<\/Code>/.exec(xml)![1];
      const requestId = /<RequestID>([^<]+)<\/RequestID>/.exec(xml)![1];
      expect(caught.code).toBe(code);
      expect(caught.retryable).toBe(retryable);
      expect(caught.provider).toBe('aws');
      expect(caught.cause).toMatchObject({ code: awsCode, status, requestId });
      expect(caught.message).toContain(requestId);
      expect(caught.message).not.toContain(testCredentials().secretAccessKey);
    });
  }

  it('retries a throttled call within the SDK client and then succeeds', async () => {
    active = replay({
      ...CATALOG,
      DescribeInstances: [
        { fixture: 'error-request-limit-exceeded.xml', status: 503 },
        { fixture: 'describe-instances-page1.xml' },
      ],
    });
    const machine = await provider({ maxAttempts: 3 }).getMachine('i-1234567890abcdef0');
    expect(machine.id).toBe('web-1a2b3c4d-1');
    expect(active.sent.get('DescribeInstances')).toHaveLength(2);
  });

  it('does not retry a capacity error within the client: another zone is the answer, not the same one again', async () => {
    active = replay({
      DescribeInstances: [
        { fixture: 'error-insufficient-instance-capacity.xml', status: 500 },
        { fixture: 'describe-instances-page1.xml' },
      ],
    });
    await expect(
      provider({ maxAttempts: 3 }).getMachine('i-1234567890abcdef0'),
    ).rejects.toMatchObject({ code: 'InsufficientCapacity' });
    expect(active.sent.get('DescribeInstances')).toHaveLength(1);
  });
});
