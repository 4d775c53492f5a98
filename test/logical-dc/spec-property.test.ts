/**
 * Random and malformed specs, fed to the spec file parser and to the SDK: the only
 * error is a ValidationError, never a crash or a hang.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { ValidationError } from '../../src/core/index.js';
import { LogicalDatacenter, memoryStore, parseSpecText } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';

const VALID = {
  name: 'demo',
  providers: { onprem: { kind: 'sim', seed: 1 }, cloud: { kind: 'sim', seed: 2 } },
  labels: { env: 'test' },
  networks: {
    lan: { provider: 'onprem', cidr: '10.0.0.0/16', subnets: [{ name: 'a', cidr: '10.0.1.0/24' }] },
  },
  pools: {
    web: {
      provider: 'cloud',
      count: 2,
      machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
    },
    db: {
      provider: 'onprem',
      min: 1,
      max: 3,
      network: 'lan',
      machine: { size: 'std-4x16', image: 'debian-12' },
    },
  },
};

/** Either parses or throws a ValidationError; anything else fails the property. */
function onlyValidationErrors(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (err) {
    if (err instanceof ValidationError) return true;
    throw err;
  }
}

/** Paths into VALID, to replace with random values. */
function paths(value: unknown, prefix: string[] = []): string[][] {
  if (value === null || typeof value !== 'object') return [prefix];
  return [prefix, ...Object.entries(value).flatMap(([k, v]) => paths(v, [...prefix, k]))];
}
const PATHS = paths(VALID);

function setIn(root: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const copy = (
    Array.isArray(root) ? [...(root as unknown[])] : { ...(root as Record<string, unknown>) }
  ) as Record<string, unknown>;
  copy[path[0]!] = setIn(copy[path[0]!], path.slice(1), value);
  return copy;
}

const mutated = fc
  .tuple(
    fc.constantFrom(...PATHS),
    fc.oneof(
      fc.jsonValue(),
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.constant(undefined),
    ),
  )
  .map(([path, value]) => setIn(VALID, path, value));

describe('spec properties', () => {
  it('a valid spec parses', () => {
    expect(parseSpecText(stringify(VALID), 'kumo.yaml').name).toBe('demo');
  });

  it('any text gives a spec or a ValidationError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (text) =>
        onlyValidationErrors(() => parseSpecText(text, 'kumo.yaml')),
      ),
      { numRuns: 300 },
    );
  });

  it('text made of YAML punctuation gives a spec or a ValidationError', () => {
    const token = fc.constantFrom(
      '-',
      ' ',
      '\n',
      ':',
      '[',
      ']',
      '{',
      '}',
      ',',
      '&a',
      '*a',
      '!!str',
      '"',
      "'",
      '#',
      '?',
      '|',
      '>',
      'name',
      'pools',
      'x',
      '1',
      'providers',
      '  ',
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 200 }).map((t) => t.join('')),
        (text) => onlyValidationErrors(() => parseSpecText(text, 'kumo.yaml')),
      ),
      { numRuns: 300 },
    );
  });

  it('any JSON-like document gives a spec or a ValidationError', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) =>
        onlyValidationErrors(() => parseSpecText(stringify(value), 'kumo.yaml')),
      ),
      { numRuns: 200 },
    );
  });

  it('a valid spec with one field replaced by a random value gives a spec or a ValidationError naming a field', () => {
    fc.assert(
      fc.property(mutated, (doc) => {
        try {
          parseSpecText(stringify(doc) ?? '', 'kumo.yaml');
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          expect(err.issues.length).toBeGreaterThan(0);
          for (const issue of err.issues) expect(issue.line).toBeGreaterThanOrEqual(1);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('deeply nested and oversized input is refused, again and again, without taking the process down', () => {
    const hostile = [
      '['.repeat(20_000),
      '- '.repeat(5_000) + 'x',
      '{'.repeat(3_000) + '}'.repeat(3_000),
      Array.from({ length: 1_300 }, (_, i) => `${' '.repeat(i)}a:`).join('\n'),
      'a: '.repeat(2_000),
      'x'.repeat(5 * 1024 * 1024),
    ];
    for (let round = 0; round < 3; round++)
      for (const text of hostile)
        expect(() => parseSpecText(text, 'kumo.yaml')).toThrow(ValidationError);
  });

  it('nesting just inside the bounds reaches the schema, which names the field', () => {
    const deep = Array.from({ length: 150 }, (_, i) => `${' '.repeat(i * 2)}k${i}:`).join('\n');
    for (let round = 0; round < 3; round++) {
      const err: unknown = (() => {
        try {
          return parseSpecText(
            `name: x\nproviders: {}\nlabels:\n${deep.replace(/^/gm, '  ')}\n`,
            'kumo.yaml',
          );
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).issues[0]?.path).toBe('labels.k0');
    }
  });

  it('the SDK answers random specs with a plan or a ValidationError', async () => {
    const dc = new LogicalDatacenter({
      name: 'prop',
      store: memoryStore(),
      providers: {
        onprem: sim({ name: 'onprem', latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } }),
        cloud: sim({ name: 'cloud', latency: { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 } }),
      },
    });
    const { name: _n, providers: _p, ...spec } = VALID;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc
            .tuple(fc.constantFrom(...paths(spec)), fc.jsonValue())
            .map(([path, value]) => setIn(spec, path, value)),
          fc.jsonValue(),
          fc.object(),
        ),
        async (input) => {
          try {
            await dc.plan(input as Parameters<typeof dc.plan>[0]);
          } catch (err) {
            if (!(err instanceof ValidationError)) throw err;
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
