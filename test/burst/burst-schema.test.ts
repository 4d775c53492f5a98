import { describe, expect, it } from 'vitest';
import { parse, ValidationError } from '../../src/core/index.js';
import {
  BurstPolicySchema,
  burstPolicyIssues,
  DatacenterSpecSchema,
  formatDuration,
  parseDuration,
  parseSpecText,
  providerRanks,
} from '../../src/logical-dc/index.js';

const TARGET = {
  name: 'cloud',
  provider: 'cloud',
  machine: { image: 'ubuntu-22.04' },
  sizes: ['cpu-4x8'],
  maxMachines: 10,
};

function issuesOf(input: unknown): { path: string; message: string }[] {
  try {
    parse(BurstPolicySchema, input, 'burst policy', 'burst');
  } catch (err) {
    if (err instanceof ValidationError) return [...err.issues];
    throw err;
  }
  return [];
}

describe('durations in policies', () => {
  it('reads units and sums parts', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('ten minutes')).toBeUndefined();
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(90_000)).toBe('1m30s');
  });
});

describe('the burst policy schema', () => {
  it('fills in defaults and turns durations into milliseconds', () => {
    const p = parse(
      BurstPolicySchema,
      { targets: [TARGET], budgetPerHour: 5, pendingFor: '1m', idleFor: 120_000 },
      'burst policy',
    );
    expect(p).toMatchObject({
      basePools: [],
      basePoolsFirst: true,
      pendingFor: 60_000,
      idleFor: 120_000,
      drainDeadline: 600_000,
      cooldown: { scaleUp: 0, scaleDown: 0 },
      preference: { providers: [], mode: 'cheapest' },
      interval: 15_000,
    });
    expect(p.targets[0]).toMatchObject({ spot: false, machine: { labels: {} } });
  });

  it('names the field and the reason for each mistake', () => {
    const issues = issuesOf({
      targets: [
        { ...TARGET, shapes: [{ cpus: 2, memoryMiB: 4096 }] },
        { ...TARGET, maxMachines: -1, machine: { image: 'x', labels: { 'kumo-pool': 'no' } } },
      ],
      budgetPerHour: 0,
      pendingFor: 'soon',
      preference: { providers: ['elsewhere'] },
    });
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i.message]));
    expect(byPath['burst.targets.0.shapes']).toBe('give sizes or shapes, not both');
    expect(byPath['burst.targets.1.maxMachines']).toBe('maxMachines cannot be negative');
    expect(byPath['burst.targets.1.machine.labels.kumo-pool']).toMatch(/ownership tags/);
    expect(byPath['burst.budgetPerHour']).toBe('budgetPerHour must be more than 0');
    expect(byPath['burst.pendingFor']).toMatch(/"soon" is not a duration/);
  });

  it('refuses two targets with one name', () => {
    expect(issuesOf({ targets: [TARGET, TARGET], budgetPerHour: 1 })).toEqual([
      { path: 'burst.targets.1.name', message: 'target name "cloud" is used twice' },
    ]);
  });

  it('refuses a preference for a provider no target uses', () => {
    const issues = issuesOf({
      targets: [TARGET],
      budgetPerHour: 1,
      preference: { providers: ['elsewhere'] },
    });
    expect(issues).toEqual([
      {
        path: 'burst.preference.providers.0',
        message: 'no burst target is on provider "elsewhere"',
      },
    ]);
  });

  it('checks base pools and target providers against the datacenter', () => {
    const p = parse(
      BurstPolicySchema,
      { basePools: ['onprem', 'gone'], targets: [TARGET], budgetPerHour: 1 },
      'burst policy',
    );
    expect(burstPolicyIssues(p, { pools: ['onprem'], providers: ['onprem'] })).toEqual([
      { path: 'burst.basePools.1', message: 'pool "gone" is not declared under pools' },
      {
        path: 'burst.targets.0.provider',
        message: 'provider "cloud" is not registered (registered: onprem)',
      },
    ]);
  });

  it('ranks providers by the preference, then by target order', () => {
    const p = parse(
      BurstPolicySchema,
      {
        targets: [TARGET, { ...TARGET, name: 'other', provider: 'other' }],
        budgetPerHour: 1,
        preference: { providers: ['other'] },
      },
      'burst policy',
    );
    expect([...providerRanks(p)]).toEqual([
      ['other', 0],
      ['cloud', 1],
    ]);
  });

  it('is the burst key of a datacenter spec and of a spec file, with line numbers', () => {
    const spec = parse(
      DatacenterSpecSchema,
      { burst: { targets: [TARGET], budgetPerHour: 3 } },
      'datacenter spec',
    );
    expect(spec.burst?.budgetPerHour).toBe(3);
    const text = [
      'name: demo',
      'providers:',
      '  cloud: { kind: sim }',
      'burst:',
      '  budgetPerHour: 3',
      '  targets:',
      '    - name: cloud',
      '      provider: cloud',
      '      machine: { image: ubuntu-22.04 }',
      '      maxMachines: lots',
      '',
    ].join('\n');
    expect(() => parseSpecText(text, 'demo.yaml')).toThrow(
      /demo\.yaml:10:\d+ burst\.targets\.0\.maxMachines/,
    );
  });
});
