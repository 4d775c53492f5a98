import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../../src/clients/openstack/http.js';
import { IronicClient } from '../../../src/clients/openstack/ironic-client.js';
import { VirtualClock } from '../../../src/core/index.js';
import {
  enrollNodes,
  parseEnrollFile,
  type EnrollEvent,
} from '../../../src/providers/baremetal/baremetal-enroll.js';
import { IRONIC, ironicError, nock, root } from './helpers.js';

const UUID = '6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('nodes file', () => {
  it('merges the defaults under each node and expands count with {i}', () => {
    const nodes = parseEnrollFile({
      defaults: { driver: 'ipmi', driverInfo: { ipmi_username: 'admin' }, power: 'off' },
      nodes: [
        {
          name: 'rack1-{i}',
          count: 12,
          driverInfo: { ipmi_address: '10.0.0.{i}' },
          ports: ['52:54:00:00:00:{i}'],
          resourceClass: 'bm-small',
          properties: { cpus: 4, memory_mb: 8192, local_gb: 80, cpu_arch: 'x86_64' },
        },
      ],
    });
    expect(nodes.map((n) => n.name).slice(0, 2)).toEqual(['rack1-01', 'rack1-02']);
    expect(nodes[11]).toMatchObject({
      name: 'rack1-12',
      driver: 'ipmi',
      driverInfo: { ipmi_username: 'admin', ipmi_address: '10.0.0.12' },
      ports: ['52:54:00:00:00:0c'],
      power: 'off',
    });
  });

  it('names every field at fault: a missing BMC address, a bad Redfish URL, a bad MAC, a bad trait', () => {
    const err = thrown(() =>
      parseEnrollFile({
        nodes: [
          { name: 'a', driver: 'ipmi', driverInfo: {} },
          { name: 'b', driver: 'redfish', driverInfo: { redfish_address: '10.0.0.5' } },
          { name: 'c', driver: 'fake-hardware', ports: ['not-a-mac'], traits: ['gpu'] },
        ],
      }),
    ) as { issues: { path: string }[] };
    expect(err.issues.map((i) => i.path)).toEqual([
      'nodes.0.driverInfo.ipmi_address',
      'nodes.1.driverInfo.redfish_address',
      'nodes.2.traits.0',
    ]);
  });

  it('refuses the same MAC on two nodes and the same name twice', () => {
    const err = thrown(() =>
      parseEnrollFile({
        nodes: [
          { name: 'a', driver: 'fake-hardware', ports: ['52:54:00:00:00:01'] },
          { name: 'a', driver: 'fake-hardware', ports: ['52:54:00:00:00:01'] },
        ],
      }),
    );
    expect(String(err)).toMatch(
      /node name "a" appears twice.*MAC 52:54:00:00:00:01 is given to both a and a/,
    );
  });

  it('wants {i} in the name of an entry with count', () => {
    expect(
      String(
        thrown(() =>
          parseEnrollFile({
            nodes: [{ name: 'same', count: 2, driver: 'ipmi', driverInfo: { ipmi_address: 'x' } }],
          }),
        ),
      ),
    ).toMatch(/nodes\.0\.name: with count, the name needs \{i\}/);
  });

  it('refuses {i} in BMC details of an entry without count, where nothing numbers it', () => {
    expect(
      String(
        thrown(() =>
          parseEnrollFile({
            nodes: [{ name: 'one', driver: 'ipmi', driverInfo: { ipmi_address: '10.0.0.{i}' } }],
          }),
        ),
      ),
    ).toMatch(/nodes\.0\.driverInfo\.ipmi_address: \{i\} is numbered only for an entry with count/);
  });
});

describe('enrolling', () => {
  beforeEach(() => nock.disableNetConnect());
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });

  /** An Ironic that walks one node through its states as the calls arrive. */
  function ironicWithOneNode(initial: Record<string, unknown> | undefined) {
    let node: Record<string, unknown> | undefined = initial;
    const bodies: { method: string; path: string; body: unknown }[] = [];
    const record = (method: string) =>
      function (this: unknown, path: string, body: unknown) {
        bodies.push({ method, path, body });
      };
    nock(IRONIC).get('/').reply(200, root());
    const scope = nock(IRONIC)
      .persist()
      .get('/v1/nodes/bm-ipmi-01')
      .reply(() =>
        node === undefined
          ? [404, ironicError('Node bm-ipmi-01 could not be found.')]
          : [200, node],
      )
      .get(`/v1/nodes/${UUID}`)
      .reply(() => [200, node])
      .post('/v1/nodes')
      .reply((path, body) => {
        record('POST')(path, body);
        node = {
          uuid: UUID,
          name: 'bm-ipmi-01',
          provision_state: 'enroll',
          power_state: null,
          traits: [],
          ...(body as object),
        };
        return [201, node];
      })
      .get('/v1/ports')
      .query(true)
      .reply(200, { ports: [] })
      .post('/v1/ports')
      .reply((path, body) => {
        record('POST')(path, body);
        return [201, { uuid: 'p-1', ...(body as object) }];
      })
      .put(`/v1/nodes/${UUID}/traits`)
      .reply((path, body) => {
        record('PUT')(path, body);
        return [204];
      })
      .put(`/v1/nodes/${UUID}/states/provision`)
      .reply((path, body) => {
        record('PUT')(path, body);
        const target = (body as { target: string }).target;
        node = {
          ...node,
          provision_state: target === 'manage' ? 'manageable' : 'available',
          target_provision_state: null,
        };
        return [202];
      })
      .put(`/v1/nodes/${UUID}/states/power`)
      .reply((path, body) => {
        record('PUT')(path, body);
        node = { ...node, power_state: (body as { target: string }).target };
        return [202];
      })
      .get('/v1/nodes')
      .query(true)
      .reply(() => [200, { nodes: node === undefined ? [] : [node] }]);
    return { scope, bodies };
  }

  const ipmiNode = parseEnrollFile({
    nodes: [
      {
        name: 'bm-ipmi-01',
        driver: 'ipmi',
        driverInfo: { ipmi_address: '10.20.0.11', ipmi_username: 'admin', ipmi_password: 'calvin' },
        resourceClass: 'bm-small',
        properties: { cpus: 16, memory_mb: 65536, local_gb: 480, cpu_arch: 'x86_64' },
        ports: ['3C:FD:FE:00:00:11'],
        traits: ['CUSTOM_RACK_A'],
        interfaces: { deploy: 'direct', raid: 'agent' },
        automatedClean: true,
        power: 'off',
      },
    ],
  });
  const client = () => new IronicClient({ transport: new HttpTransport(), endpoint: IRONIC });
  const clock = () => new VirtualClock({ start: Date.now(), autoAdvance: true });

  it('creates an IPMI node with its BMC, ports and traits, and takes it through manage and provide to available', async () => {
    const { bodies } = ironicWithOneNode(undefined);
    const events: EnrollEvent[] = [];
    const [result] = await enrollNodes(client(), ipmiNode, {
      clock: clock(),
      onEvent: (e) => events.push(e),
    });
    expect(result).toMatchObject({
      name: 'bm-ipmi-01',
      uuid: UUID,
      state: 'available',
      powerState: 'power off',
      created: true,
    });
    expect(result!.changes).toEqual([
      'created',
      'port 3c:fd:fe:00:00:11',
      'traits',
      'manage',
      'provide',
      'power off',
    ]);
    expect(bodies[0]).toEqual({
      method: 'POST',
      path: '/v1/nodes',
      body: {
        name: 'bm-ipmi-01',
        driver: 'ipmi',
        driver_info: {
          ipmi_address: '10.20.0.11',
          ipmi_username: 'admin',
          ipmi_password: 'calvin',
        },
        properties: { cpus: 16, memory_mb: 65536, local_gb: 480, cpu_arch: 'x86_64' },
        extra: {},
        resource_class: 'bm-small',
        automated_clean: true,
        deploy_interface: 'direct',
        raid_interface: 'agent',
      },
    });
    expect(bodies.map((b) => `${b.method} ${b.path}`).slice(1)).toEqual([
      'POST /v1/ports',
      `PUT /v1/nodes/${UUID}/traits`,
      `PUT /v1/nodes/${UUID}/states/provision`,
      `PUT /v1/nodes/${UUID}/states/provision`,
      `PUT /v1/nodes/${UUID}/states/power`,
    ]);
    expect(bodies[1]!.body).toEqual({ address: '3c:fd:fe:00:00:11', node_uuid: UUID });
    expect(events.map((e) => e.step)).toContain('done');
    // Progress lines never carry the BMC password.
    expect(JSON.stringify(events)).not.toContain('calvin');
  });

  it('leaves a deployed node’s power and fields alone and says what differs', async () => {
    const deployed = {
      uuid: UUID,
      name: 'bm-ipmi-01',
      driver: 'redfish',
      provision_state: 'active',
      power_state: 'power on',
      instance_uuid: '0f4e0f4e-0f4e-40f4-80f4-0f4e0f4e0f4e',
      properties: { cpus: 8 },
      resource_class: 'bm-small',
      traits: ['CUSTOM_RACK_A'],
      extra: {},
      deploy_interface: 'direct',
      raid_interface: 'agent',
      automated_clean: true,
    };
    const { bodies } = ironicWithOneNode(deployed);
    const [result] = await enrollNodes(client(), ipmiNode, { clock: clock() });
    expect(result).toMatchObject({ created: false, state: 'active', powerState: 'power on' });
    expect(result!.changes).toEqual(['port 3c:fd:fe:00:00:11']);
    expect(result!.warnings).toEqual([
      'driver is redfish, the file says ipmi; not changed',
      'deployed (instance 0f4e0f4e-0f4e-40f4-80f4-0f4e0f4e0f4e): /properties/cpus, /properties/memory_mb, /properties/local_gb, /properties/cpu_arch differ; not changed',
    ]);
    expect(bodies.some((b) => b.path.endsWith('/states/power'))).toBe(false);
  });

  it('reports a node that will not leave enroll, with Ironic’s reason, and carries on', async () => {
    nock(IRONIC).get('/').reply(200, root());
    let state = 'enroll';
    const stuck = {
      uuid: UUID,
      name: 'bm-ipmi-01',
      driver: 'ipmi',
      traits: ['CUSTOM_RACK_A'],
      power_state: null,
      target_provision_state: null,
      properties: { cpus: 16, memory_mb: 65536, local_gb: 480, cpu_arch: 'x86_64' },
      resource_class: 'bm-small',
      automated_clean: true,
      deploy_interface: 'direct',
      raid_interface: 'agent',
      extra: {},
    };
    nock(IRONIC)
      .persist()
      .get(/^\/v1\/nodes\/(bm-ipmi-01|6f1c2d3e-4a5b-4c6d-8e7f-9a0b1c2d3e4f)$/)
      .reply(200, () => ({ ...stuck, provision_state: state }))
      .get('/v1/ports')
      .query(true)
      .reply(200, { ports: [{ uuid: 'p', address: '3c:fd:fe:00:00:11' }] })
      .put(`/v1/nodes/${UUID}/states/provision`)
      .reply(() => {
        state = 'enroll';
        return [202];
      })
      .get('/v1/nodes')
      .query(true)
      .reply(200, () => ({
        nodes: [
          {
            ...stuck,
            provision_state: state,
            last_error: 'Failed to get power state for node: IPMI call failed: power status.',
          },
        ],
      }));
    const [result] = await enrollNodes(client(), ipmiNode, { clock: clock() });
    expect(result!.error).toMatch(
      /"manage" left the node in "enroll": Failed to get power state for node: IPMI call failed/,
    );
  });
});
