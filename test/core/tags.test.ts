import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeGcpLabelKey,
  encodeGcpLabelKey,
  fromAwsTags,
  fromGcpLabels,
  fromIronicExtra,
  fromOpenStackMetadata,
  jsonPointerSegment,
  machineName,
  machineNamePrefix,
  ownershipTags,
  toAwsTags,
  toGcpLabels,
  toIronicExtra,
  toOpenStackMetadata,
  ValidationError,
} from '../../src/core/index.js';

const labelKey = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,14}$/);
const labels = fc.dictionary(labelKey, fc.string({ maxLength: 12 }), { maxKeys: 6 });

describe('ownership tags', () => {
  it('carry the datacenter, pool, key and machine id', () => {
    expect(ownershipTags({ dc: 'hybrid', pool: 'web', key: 'k1', id: 'web-1' })).toEqual({
      'kumo-dc': 'hybrid',
      'kumo-pool': 'web',
      'kumo-key': 'k1',
      'kumo-id': 'web-1',
    });
  });
});

describe('machine names', () => {
  it('are the same for the same key and differ for another', () => {
    const a = machineNamePrefix({ pool: 'web', idempotencyKey: 'k1' });
    expect(machineNamePrefix({ pool: 'web', idempotencyKey: 'k1' })).toBe(a);
    expect(machineNamePrefix({ pool: 'web', idempotencyKey: 'k2' })).not.toBe(a);
    expect(machineName(a, 3)).toBe(`${a}-3`);
  });

  it('are valid GCP instance names whatever the pool is called', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 80 }),
        fc.string({ minLength: 1, maxLength: 64 }),
        (pool, key) => {
          const name = machineName(machineNamePrefix({ pool, idempotencyKey: key }), 9999);
          expect(name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
        },
      ),
    );
  });

  it('use an explicit prefix as given', () => {
    expect(machineNamePrefix({ pool: 'x', idempotencyKey: 'k', namePrefix: 'db' })).toBe('db');
  });
});

describe('AWS tags', () => {
  it('round-trip labels', () => {
    fc.assert(
      fc.property(labels, (l) => {
        expect(fromAwsTags(toAwsTags(l))).toEqual(l);
      }),
    );
  });
  it('refuse the reserved aws: prefix', () => {
    expect(() => toAwsTags({ 'aws:x': '1' })).toThrow(ValidationError);
  });
  it('refuse values longer than 256 characters', () => {
    expect(() => toAwsTags({ k: 'v'.repeat(257) })).toThrow(/at most 128/);
  });
  it('leave out tags AWS itself sets', () => {
    expect(
      fromAwsTags([
        { Key: 'aws:autoscaling:groupName', Value: 'x' },
        { Key: 'a', Value: 'b' },
      ]),
    ).toEqual({ a: 'b' });
  });
});

describe('GCP labels', () => {
  it('round-trip any labels that fit', () => {
    fc.assert(
      fc.property(labels, (l) => {
        expect(fromGcpLabels(toGcpLabels(l))).toEqual(l);
      }),
    );
  });
  it('produce only what GCP accepts', () => {
    fc.assert(
      fc.property(labels, (l) => {
        for (const [k, v] of Object.entries(toGcpLabels(l))) {
          expect(k).toMatch(/^[a-z][a-z0-9_-]{0,62}$/);
          expect(v).toMatch(/^[a-z0-9_-]{0,63}$/);
        }
      }),
    );
  });
  it('leave lowercase labels readable', () => {
    expect(toGcpLabels({ 'kumo-dc': 'prod-1' })).toEqual({ 'kumo-dc': 'prod-1' });
  });
  it('mark keys that do not start with a letter, reversibly', () => {
    expect(encodeGcpLabelKey('9lives')).toBe('k_-9lives');
    expect(decodeGcpLabelKey('k_-9lives')).toBe('9lives');
  });
  it('name the label that cannot fit in 63 characters', () => {
    expect(() => toGcpLabels({ note: 'X'.repeat(30) })).toThrow(
      /labels\.note: value encodes to 90 characters/,
    );
  });
  it('keep labels set by hand that are not kumo-encoded', () => {
    expect(fromGcpLabels({ env: 'prod_x' })).toEqual({ env: 'prod_x' });
  });
});

describe('OpenStack metadata and Ironic extra', () => {
  it('round-trip labels through Nova metadata', () => {
    fc.assert(
      fc.property(labels, (l) => {
        expect(fromOpenStackMetadata(toOpenStackMetadata(l))).toEqual(l);
      }),
    );
  });
  it('refuse more than 128 metadata items', () => {
    const many = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
    expect(() => toOpenStackMetadata(many)).toThrow(/at most 128/);
  });
  it('round-trip labels through Ironic extra', () => {
    fc.assert(
      fc.property(labels, (l) => {
        expect(fromIronicExtra(toIronicExtra(l))).toEqual(l);
      }),
    );
  });
  it('read nothing from extra kumo did not write', () => {
    expect(fromIronicExtra({ owner: 'ops' })).toEqual({});
    expect(fromIronicExtra(null)).toEqual({});
  });
  it('escape JSON pointer segments', () => {
    expect(jsonPointerSegment('a/b~c')).toBe('a~1b~0c');
  });
});
