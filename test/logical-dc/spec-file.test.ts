import { describe, expect, it } from 'vitest';
import { isKumoError, ValidationError } from '../../src/core/index.js';
import { DatacenterSpecSchema, parseSpecText } from '../../src/logical-dc/index.js';

const VALID = `name: demo
providers:
  onprem:
    kind: sim
    seed: 1
  cloud:
    kind: aws
    region: us-east-1
    profile: prod
networks:
  lan:
    provider: onprem
    cidr: 10.0.0.0/16
    subnets:
      - { name: a, cidr: 10.0.1.0/24 }
pools:
  web:
    provider: cloud
    count: 3
    machine:
      resources: { cpus: 2, memoryMiB: 4096 }
      image: ubuntu-22.04
  db:
    provider: onprem
    min: 1
    max: 4
    network: lan
    machine:
      size: std-4x16
      image: debian-12
burst:
  basePools: [db]
  budgetPerHour: 5
  targets:
    - { name: spill, provider: cloud, machine: { image: ubuntu-22.04 }, maxMachines: 10 }
`;

function issuesOf(text: string): ValidationError {
  try {
    parseSpecText(text, 'kumo.yaml');
  } catch (err) {
    if (err instanceof ValidationError) return err;
    throw err;
  }
  throw new Error('expected a ValidationError');
}

describe('spec file', () => {
  it('parses a valid file into providers by kind and settings, and a datacenter spec', () => {
    const file = parseSpecText(VALID, 'kumo.yaml');
    expect(file.name).toBe('demo');
    expect(file.providers['cloud']).toEqual({
      kind: 'aws',
      settings: { region: 'us-east-1', profile: 'prod' },
    });
    expect(file.spec.pools['db']).toMatchObject({ min: 1, max: 4, network: 'lan' });
    expect(file.statePath.endsWith('.kumo/state.db')).toBe(true);
  });

  it('reads the burst section as a burst policy', () => {
    const burst = parseSpecText(VALID, 'kumo.yaml').spec.burst;
    expect(burst).toMatchObject({ basePools: ['db'], budgetPerHour: 5 });
    expect(burst?.targets[0]).toMatchObject({ name: 'spill', provider: 'cloud', maxMachines: 10 });
  });

  it('points burst references to undeclared pools and providers at their line', () => {
    const err = issuesOf(
      VALID.replace('basePools: [db]', 'basePools: [dbx]').replace(
        'provider: cloud, machine',
        'provider: elsewhere, machine',
      ),
    );
    expect(err.issues).toContainEqual(
      expect.objectContaining({
        path: 'burst.basePools.0',
        message: 'pool "dbx" is not declared under pools',
        line: 32,
        column: 15,
      }),
    );
    expect(err.issues).toContainEqual(
      expect.objectContaining({ path: 'burst.targets.0.provider', line: 35, column: 32 }),
    );
    expect(err.issues.find((i) => i.path === 'burst.targets.0.provider')?.message).toContain(
      'provider "elsewhere" is not declared under providers',
    );
  });

  it('points each problem at its line and column and names the field', () => {
    const text = VALID.replace('cpus: 2', 'cpus: -2').replace('count: 3', 'count: 3.5');
    const err = issuesOf(text);
    const cpus = err.issues.find((i) => i.path === 'pools.web.machine.resources.cpus');
    const count = err.issues.find((i) => i.path === 'pools.web.count');
    expect(cpus).toMatchObject({ line: 21, column: 26, message: 'cpus must be more than 0' });
    expect(count).toMatchObject({ line: 19, column: 12, message: 'count must be a whole number' });
    expect(err.message).toContain(
      'kumo.yaml:21:26 pools.web.machine.resources.cpus: cpus must be more than 0',
    );
  });

  it('lists every problem at once', () => {
    const text = VALID.replace('image: ubuntu-22.04', 'imag: ubuntu-22.04')
      .replace('provider: onprem\n    min', 'provider: nowhere\n    min')
      .replace('cidr: 10.0.1.0/24', 'cidr: 10.9.1.0/24');
    const err = issuesOf(text);
    expect(err.issues.map((i) => i.path).sort()).toEqual([
      'networks.lan.subnets.0.cidr',
      'pools.db.network',
      'pools.db.provider',
      'pools.web.machine.imag',
      'pools.web.machine.image',
    ]);
    expect(err.issues.every((i) => i.line !== undefined && i.column !== undefined)).toBe(true);
    expect(err.message).toMatch(/has \d+ problems/);
  });

  it('points an unknown field at its own key', () => {
    const err = issuesOf(
      VALID.replace('    seed: 1\n', '    seed: 1\n').replace(
        'count: 3\n',
        'count: 3\n    replicas: 2\n',
      ),
    );
    expect(err.issues).toContainEqual({
      path: 'pools.web.replicas',
      message: 'unknown field "replicas"',
      line: 20,
      column: 5,
    });
  });

  it('points a missing field at the key that should hold it', () => {
    const err = issuesOf(VALID.replace('      image: ubuntu-22.04\n', ''));
    const image = err.issues.find((i) => i.path === 'pools.web.machine.image');
    expect(image).toMatchObject({ line: 20, column: 5 });
  });

  it('reports YAML syntax errors with their position', () => {
    const err = issuesOf('name: x\nproviders:\n  a: [unclosed\n');
    expect(err.issues[0]).toMatchObject({ path: '(syntax)' });
    expect(err.issues[0]!.line).toBeGreaterThanOrEqual(3);
  });

  it('refuses duplicate keys', () => {
    const err = issuesOf('name: x\nname: y\nproviders: {}\n');
    expect(err.issues[0]).toMatchObject({ path: '(syntax)', line: 2 });
  });

  it('refuses an empty file and a missing name', () => {
    expect(issuesOf('').issues[0]!.message).toContain('empty');
    expect(issuesOf('providers: {}\n').issues[0]).toMatchObject({ path: 'name' });
  });

  it.each([
    ['secretAccessKey', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'],
    ['password', 'hunter2'],
    ['token', 'abc'],
    ['api_key', 'abc'],
  ])('refuses an inline secret in %s and says how to reference it', (key, value) => {
    const err = issuesOf(VALID.replace('profile: prod', `${key}: ${value}`));
    const issue = err.issues.find((i) => i.path === `providers.cloud.${key}`);
    expect(issue?.message).toContain('inline');
    expect(issue?.message).toContain('environment variable');
    expect(issue?.line).toBe(9);
    // The secret itself never appears in the error.
    expect(err.message).not.toContain(value);
  });

  it('refuses values that look like keys whatever the field is called', () => {
    const err = issuesOf(VALID.replace('profile: prod', 'note: AKIAABCDEFGHIJKLMNOP'));
    expect(err.issues[0]?.message).toContain('AWS access key id');
  });

  it('accepts credentials by reference: env var names, profiles, files, clouds.yaml names', () => {
    const text = VALID.replace(
      'profile: prod',
      'profile: prod\n    secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY\n    passwordEnv: OS_PASSWORD\n    keyFilename: ./sa.json\n    cloud: devstack',
    );
    expect(() => parseSpecText(text, 'kumo.yaml')).not.toThrow();
  });

  it('refuses labels kumo keeps for its own tags', () => {
    const err = issuesOf(
      VALID.replace('image: debian-12', 'image: debian-12\n      labels: { kumo-pool: x }'),
    );
    expect(err.issues[0]).toMatchObject({ path: 'pools.db.machine.labels.kumo-pool' });
  });

  it('refuses a pool with both count and min/max, and min above max', () => {
    const both = DatacenterSpecSchema.safeParse({
      pools: { a: { provider: 'p', count: 1, min: 0, max: 2, machine: { size: 's', image: 'i' } } },
    });
    expect(both.success).toBe(false);
    const inverted = DatacenterSpecSchema.safeParse({
      pools: { a: { provider: 'p', min: 3, max: 2, machine: { size: 's', image: 'i' } } },
    });
    expect(inverted.error?.issues[0]?.message).toBe('min (3) is more than max (2)');
  });

  describe('with a provider check', () => {
    // Stands in for the CLI's kinds: sim takes a seed, nothing else.
    const checkProvider = (kind: string, settings: Readonly<Record<string, unknown>>) =>
      kind !== 'sim'
        ? []
        : Object.keys(settings)
            .filter((k) => k !== 'seed')
            .map((k) => ({ path: k, message: `unknown setting "${k}"`, atKey: true }));
    const parseWith = (text: string): ValidationError => {
      try {
        parseSpecText(text, 'kumo.yaml', { checkProvider });
      } catch (err) {
        if (err instanceof ValidationError) return err;
        throw err;
      }
      throw new Error('expected a ValidationError');
    };

    it("lists a provider's problems with the rest of the file's, in file order", () => {
      const err = parseWith(
        VALID.replace('name: demo', 'name: Demo')
          .replace('    seed: 1\n', '    seed: 1\n    sead: 2\n')
          .replace('count: 3', 'count: -3'),
      );
      expect(err.issues.map((i) => `${i.line}:${i.column} ${i.path}`)).toEqual([
        '1:7 name',
        '6:5 providers.onprem.sead',
        '20:12 pools.web.count',
      ]);
      expect(err.message).toContain('kumo.yaml:6:5 providers.onprem.sead: unknown setting "sead"');
    });

    it("refuses a file whose only problem is a provider's settings", () => {
      const err = parseWith(VALID.replace('    seed: 1\n', '    seed: 1\n    sead: 2\n'));
      expect(err.issues).toEqual([
        { path: 'providers.onprem.sead', message: 'unknown setting "sead"', line: 6, column: 5 },
      ]);
    });

    it('reports an inline secret once, not also as an unknown setting', () => {
      const err = parseWith(VALID.replace('    seed: 1\n', '    seed: 1\n    password: hunter2\n'));
      expect(err.issues.map((i) => i.path)).toEqual(['providers.onprem.password']);
      expect(err.issues[0]?.message).toContain('would hold a secret inline');
    });

    it('leaves a malformed kind to the schema alone', () => {
      const err = parseWith(VALID.replace('kind: sim', 'kind: Sim'));
      expect(err.issues.map((i) => i.path)).toEqual(['providers.onprem.kind']);
    });
  });

  it('is a kumo ValidationError so the CLI exits 2', () => {
    expect(isKumoError(issuesOf('name: 1\n'))).toBe(true);
  });
});
