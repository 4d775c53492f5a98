import { describe, expect, it } from 'vitest';
import { parseSpecText } from '../../src/logical-dc/index.js';
import { createGateway } from '../../src/gateway/index.js';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';
import { GatewaySpecSchema } from '../../src/logical-dc/gateway-spec.js';
import { readFileSync } from 'node:fs';

const base = `name: t
providers:
  onprem: { kind: sim }
`;

describe('the gateway section of a spec file', () => {
  it('is read with its defaults', () => {
    const file = parseSpecText(
      `${base}gateway:\n  projects: { demo: {} }\n  users:\n    demo: { passwordEnv: DEMO_PW, projects: [demo] }\n`,
      'kumo.yaml',
    );
    expect(file.gateway).toMatchObject({
      region: 'RegionOne',
      tokenTtlSeconds: 3600,
      users: { demo: { roles: ['member'] } },
      login: { maxFailures: 5 },
    });
  });

  it('refuses a password written inline, saying what to do instead, at its line', () => {
    expect(() =>
      parseSpecText(
        `${base}gateway:\n  projects: { demo: {} }\n  users:\n    demo: { passwordEnv: DEMO_PW, password: hunter2, projects: [demo] }\n`,
        'kumo.yaml',
      ),
    ).toThrow(
      /kumo\.yaml:7:\d+ gateway\.users\.demo\.password: passwords are never written in the spec file: set passwordEnv/,
    );
  });

  it('refuses a user in a project that is not declared', () => {
    expect(() =>
      parseSpecText(
        `${base}gateway:\n  projects: { demo: {} }\n  users:\n    demo: { passwordEnv: DEMO_PW, projects: [nope] }\n`,
        'kumo.yaml',
      ),
    ).toThrow(/gateway\.users\.demo\.projects\.0: project "nope" is not declared/);
  });

  it('is valid as shipped in examples/gateway.yaml', () => {
    const file = parseSpecText(
      readFileSync('examples/gateway.yaml', 'utf8'),
      'examples/gateway.yaml',
    );
    expect(file.gateway?.users['demo']?.passwordEnv).toBe('KUMO_GATEWAY_DEMO_PASSWORD');
    expect(Object.keys(file.gateway?.projects ?? {})).toEqual(['demo']);
  });
});

describe('starting a gateway', () => {
  const dc = (): LogicalDatacenter =>
    new LogicalDatacenter({
      name: 't',
      store: memoryStore(),
      providers: { onprem: sim({ name: 'onprem' }) },
    });
  const spec = GatewaySpecSchema.parse({
    projects: { demo: {} },
    users: { demo: { passwordEnv: 'DEMO_PW', projects: ['demo'] } },
  });

  it('refuses to start without a user’s password variable, naming it', async () => {
    await expect(createGateway({ dc: dc(), spec, env: {} })).rejects.toThrow(
      /environment variable DEMO_PW is not set \(it holds user demo's password\)/,
    );
  });

  it('refuses a default zone that names no provider', async () => {
    await expect(
      createGateway({ dc: dc(), spec: { ...spec, defaultZone: 'mars' }, env: { DEMO_PW: 'x' } }),
    ).rejects.toThrow(/gateway\.defaultZone "mars" names no provider/);
  });
});
