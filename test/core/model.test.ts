import { describe, expect, it } from 'vitest';
import {
  addResources,
  cidrContains,
  CreateMachinesRequestSchema,
  findImageAlias,
  fits,
  formatResources,
  matchesLabels,
  MachineSpecSchema,
  NetworkSpecSchema,
  parse,
  scaleResources,
  subtractResources,
  ValidationError,
} from '../../src/core/index.js';

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ValidationError) return err.issues.map((i) => `${i.path}: ${i.message}`);
    throw err;
  }
  return [];
};

describe('machine spec', () => {
  it('fills defaults', () => {
    const spec = parse(
      MachineSpecSchema,
      { resources: { cpus: 0.5, memoryMiB: 512 }, image: 'debian-12' },
      'spec',
    );
    expect(spec).toMatchObject({
      spot: false,
      sshKeys: [],
      labels: {},
      resources: { gpus: 0, diskGiB: 0 },
    });
  });
  it('needs resources or a size', () => {
    expect(issuesOf(() => parse(MachineSpecSchema, { image: 'x' }, 'spec'))).toEqual([
      'resources: give resources (cpus, memoryMiB, …) or an explicit size',
    ]);
  });
  it('refuses resources and a size together', () => {
    expect(
      issuesOf(() =>
        parse(
          MachineSpecSchema,
          { image: 'x', size: 'm', resources: { cpus: 1, memoryMiB: 1 } },
          'spec',
        ),
      ),
    ).toEqual(['size: give resources or size, not both']);
  });
  it('names every bad field at once, with its path', () => {
    const issues = issuesOf(() =>
      parse(
        CreateMachinesRequestSchema,
        {
          spec: { resources: { cpus: 0, memoryMiB: 1.5 }, image: 'x', sshKeys: ['nope'] },
          count: 0,
          idempotencyKey: 'a b',
        },
        'request',
      ),
    );
    expect(issues.map((i) => i.split(':')[0])).toEqual([
      'spec.resources.cpus',
      'spec.resources.memoryMiB',
      'spec.sshKeys.0',
      'count',
      'idempotencyKey',
    ]);
  });
  it('refuses unknown fields, so typos are caught', () => {
    expect(
      issuesOf(() => parse(MachineSpecSchema, { image: 'x', size: 'm', zones: ['a'] }, 'spec'))[0],
    ).toMatch(/zones/);
  });
});

describe('network spec', () => {
  it('normalises port forms to ranges', () => {
    const spec = parse(
      NetworkSpecSchema,
      {
        name: 'net',
        cidr: '10.0.0.0/16',
        firewall: [
          { ports: 22 },
          { ports: '8000-8080', protocol: 'udp' },
          { ports: { from: 1, to: 2 } },
        ],
      },
      'network',
    );
    expect(spec.firewall.map((r) => r.ports)).toEqual([
      { from: 22, to: 22 },
      { from: 8000, to: 8080 },
      { from: 1, to: 2 },
    ]);
    expect(spec.firewall[0]).toMatchObject({
      direction: 'ingress',
      protocol: 'tcp',
      cidrs: ['0.0.0.0/0'],
    });
  });
  it('names subnets outside the network, duplicates and bad CIDRs, all at once', () => {
    const issues = issuesOf(() =>
      parse(
        NetworkSpecSchema,
        {
          name: 'net',
          cidr: '10.0.0.0/16',
          subnets: [
            { name: 'a', cidr: '10.1.0.0/24' },
            { name: 'a', cidr: '10.0.1.0/24' },
            { name: 'b', cidr: '300.0.0.0/8' },
          ],
        },
        'network',
      ),
    );
    expect(issues).toEqual([
      'subnets.2.cidr: must be an IPv4 CIDR such as 10.0.0.0/16',
      "subnets.0.cidr: 10.1.0.0/24 is not inside the network's 10.0.0.0/16",
      'subnets.1.name: duplicate subnet name "a"',
    ]);
  });
  it('refuses ports on icmp rules and reversed ranges', () => {
    expect(
      issuesOf(() =>
        parse(
          NetworkSpecSchema,
          { name: 'n', cidr: '10.0.0.0/8', firewall: [{ protocol: 'icmp', ports: 1 }] },
          'network',
        ),
      ),
    ).toEqual(['firewall.0.ports: ports apply only to tcp and udp rules']);
    expect(
      issuesOf(() =>
        parse(
          NetworkSpecSchema,
          { name: 'n', cidr: '10.0.0.0/8', firewall: [{ ports: '90-80' }] },
          'network',
        ),
      )[0],
    ).toMatch(/from ≤ to/);
  });
  it('knows which CIDR holds which', () => {
    expect(cidrContains('10.0.0.0/8', '10.200.0.0/16')).toBe(true);
    expect(cidrContains('10.0.0.0/16', '10.1.0.0/24')).toBe(false);
  });
});

describe('resources', () => {
  const a = { cpus: 2, memoryMiB: 4096, gpus: 0, diskGiB: 10 };
  const b = { cpus: 1.5, memoryMiB: 1024, gpus: 1, diskGiB: 0 };
  it('add, subtract and scale per dimension', () => {
    expect(addResources(a, b)).toEqual({ cpus: 3.5, memoryMiB: 5120, gpus: 1, diskGiB: 10 });
    expect(subtractResources(a, b)).toEqual({ cpus: 0.5, memoryMiB: 3072, gpus: -1, diskGiB: 10 });
    expect(scaleResources(b, 2)).toEqual({ cpus: 3, memoryMiB: 2048, gpus: 2, diskGiB: 0 });
  });
  it('fit only when every dimension is covered', () => {
    expect(fits({ ...a, gpus: 0 }, a)).toBe(true);
    expect(fits(b, a)).toBe(false);
  });
  it('print in one line', () => {
    expect(formatResources(a)).toBe('2 vCPU, 4096 MiB, 10 GiB disk');
    expect(formatResources(b)).toBe('1.5 vCPU, 1024 MiB, 1 GPU');
  });
});

describe('labels and images', () => {
  it('match a selector by every key', () => {
    expect(matchesLabels({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(matchesLabels({ a: '1' }, { a: '1', b: '2' })).toBe(false);
    expect(matchesLabels({}, undefined)).toBe(true);
  });
  it('know the image aliases, case-insensitively', () => {
    expect(findImageAlias('Ubuntu-22.04')).toMatchObject({
      os: 'ubuntu',
      version: '22.04',
      codename: 'jammy',
    });
    expect(findImageAlias('windows-95')).toBeUndefined();
  });
});
