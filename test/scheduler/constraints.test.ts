import { describe, expect, it } from 'vitest';
import {
  attributeValue,
  canPlace,
  explainPlacement,
  maxPlaceable,
  type AgentView,
  type Constraint,
  type PlacementContext,
} from '../../src/index.js';

function view(id: string, attributes: Partial<AgentView['attributes']> = {}, cpus = 8): AgentView {
  return {
    id,
    hostname: `${id}.local`,
    attributes: { labels: {}, ...attributes },
    available: { cpus, memoryMiB: 32768, gpus: 0, diskGiB: 100, ports: 100 },
  };
}

const small = (constraints: Constraint[] = []) => ({
  resources: { cpus: 1, memoryMiB: 1024 },
  constraints,
});

function counts(byZone: Record<string, number>, onAgent = 0, onHost = 0): PlacementContext {
  return {
    tasksOnAgent: () => onAgent,
    tasksOnHost: () => onHost,
    tasksWith: (_a, v) => byZone[v] ?? 0,
    attributeValues: () => Object.keys(byZone),
  };
}

describe('placement constraints', () => {
  it('read built-in attributes, labels by prefix, and bare label keys', () => {
    const attrs = {
      zone: 'z1',
      spot: true,
      pricePerHour: 0.5,
      labels: { disk: 'ssd', zone: 'shadowed' },
    };
    expect(attributeValue(attrs, 'h', 'zone')).toBe('z1');
    expect(attributeValue(attrs, 'h', 'spot')).toBe('true');
    expect(attributeValue(attrs, 'h', 'hostname')).toBe('h');
    expect(attributeValue(attrs, 'h', 'labels.zone')).toBe('shadowed');
    expect(attributeValue(attrs, 'h', 'disk')).toBe('ssd');
  });

  it('fit as many tasks as the scarcest resource allows', () => {
    expect(maxPlaceable({ resources: { cpus: 3, memoryMiB: 1024 } }, view('a', {}, 8))).toBe(2);
    expect(maxPlaceable({ resources: { cpus: 0.1, memoryMiB: 0, ports: 30 } }, view('a'))).toBe(3);
  });

  it('equals: only agents with that value', () => {
    const req = small([{ op: 'equals', attribute: 'zone', value: 'a' }]);
    expect(canPlace(req, view('x', { zone: 'a' }))).toBe(true);
    expect(canPlace(req, view('y', { zone: 'b' }))).toBe(false);
    expect(canPlace(req, view('z'))).toBe(false);
  });

  it('in and notIn: membership, and agents without the attribute pass notIn', () => {
    expect(
      canPlace(
        small([{ op: 'in', attribute: 'pool', values: ['gpu', 'cpu'] }]),
        view('x', { pool: 'cpu' }),
      ),
    ).toBe(true);
    expect(
      canPlace(
        small([{ op: 'notIn', attribute: 'spot', values: ['true'] }]),
        view('x', { spot: true }),
      ),
    ).toBe(false);
    expect(canPlace(small([{ op: 'notIn', attribute: 'spot', values: ['true'] }]), view('x'))).toBe(
      true,
    );
  });

  it('uniqueHost: one task of the job per host', () => {
    const req = small([{ op: 'uniqueHost' }]);
    expect(maxPlaceable(req, view('x'), counts({}, 0, 0))).toBe(1);
    expect(maxPlaceable(req, view('x'), counts({}, 0, 1))).toBe(0);
  });

  it('maxPerAgent: counts what the job already has there', () => {
    const req = small([{ op: 'maxPerAgent', max: 3 }]);
    expect(maxPlaceable(req, view('x'), counts({}, 1))).toBe(2);
  });

  it('spread: keeps counts across values within maxSkew of the smallest', () => {
    const req = small([{ op: 'spread', attribute: 'zone', maxSkew: 1 }]);
    expect(maxPlaceable(req, view('x', { zone: 'a' }), counts({ a: 2, b: 1, c: 1 }))).toBe(0);
    expect(maxPlaceable(req, view('x', { zone: 'b' }), counts({ a: 2, b: 1, c: 1 }))).toBe(1);
    expect(maxPlaceable(req, view('x', { zone: 'b' }), counts({ a: 3, b: 1, c: 3 }))).toBe(3);
    expect(canPlace(req, view('x'))).toBe(false); // no zone to count it under
  });

  it('explain why a task cannot go somewhere', () => {
    const req = small([{ op: 'equals', attribute: 'zone', value: 'a' }]);
    expect(explainPlacement(req, view('x', { zone: 'b' }))).toBe('agent x fails equals on zone');
    expect(explainPlacement({ resources: { cpus: 64, memoryMiB: 1 } }, view('x'))).toBe(
      'agent x lacks the resources',
    );
    expect(explainPlacement(req, view('x', { zone: 'a' }))).toBeUndefined();
  });
});
