/**
 * A server as Nova shows it, from the gateway's server object and the machine the
 * datacenter made for it. Field names, status words and the fault shape follow
 * nova/api/openstack/compute/views/servers.py; kumo's machine states map to Nova's
 * (vm_state, task_state, power_state) and from those to the status clients read:
 *
 * | machine                        | status  | vm_state | task_state   | power_state  |
 * |--------------------------------|---------|----------|--------------|--------------|
 * | not made yet                   | BUILD   | building | scheduling   | 0 NOSTATE    |
 * | pending (first boot)           | BUILD   | building | spawning     | 0 NOSTATE    |
 * | pending (after a start)        | SHUTOFF | stopped  | powering-on  | 4 SHUTDOWN   |
 * | running                        | ACTIVE  | active   | –            | 1 RUNNING    |
 * | stopping                       | ACTIVE  | active   | powering-off | 1 RUNNING    |
 * | stopped                        | SHUTOFF | stopped  | –            | 4 SHUTDOWN   |
 * | error, gone, or create refused | ERROR   | error    | –            | 0 NOSTATE    |
 *
 * A server being deleted keeps its status with task_state `deleting`.
 */
import { createHash } from 'node:crypto';
import type { AdHocMachine } from '../../logical-dc/ad-hoc-machines.js';
import type { ServerObject } from '../state/gateway-store.js';
import type { Flavor } from './flavors.js';
import { atLeast, type Microversion } from './microversion.js';

export type NovaStatus = 'BUILD' | 'ACTIVE' | 'SHUTOFF' | 'ERROR';

export interface NovaState {
  readonly status: NovaStatus;
  readonly vmState: 'building' | 'active' | 'stopped' | 'error';
  readonly taskState:
    'scheduling' | 'spawning' | 'powering-on' | 'powering-off' | 'deleting' | null;
  readonly powerState: 0 | 1 | 4;
  /** Why the server is in ERROR. */
  readonly fault: { code: number; message: string; created: string } | undefined;
}

/** Nova's view of a server's machine; `machine` is undefined until the datacenter made it. */
export function novaState(server: ServerObject, machine: AdHocMachine | undefined): NovaState {
  const deleting = server.deletedAt !== null;
  const task = <T extends NovaState['taskState']>(t: T): T | 'deleting' =>
    deleting ? 'deleting' : t;
  if (server.fault !== null)
    return {
      status: 'ERROR',
      vmState: 'error',
      taskState: task(null),
      powerState: 0,
      fault: server.fault,
    };
  if (machine === undefined)
    return {
      status: 'BUILD',
      vmState: 'building',
      taskState: task('scheduling'),
      powerState: 0,
      fault: undefined,
    };
  if (machine.status === 'lost' || machine.state === 'terminated')
    return {
      status: 'ERROR',
      vmState: 'error',
      taskState: task(null),
      powerState: 0,
      fault: {
        code: 500,
        message: machine.error ?? `The machine is gone from provider ${machine.provider}.`,
        created: server.updatedAt,
      },
    };
  switch (machine.state) {
    case 'pending':
      return server.launchedAt === null
        ? {
            status: 'BUILD',
            vmState: 'building',
            taskState: task('spawning'),
            powerState: 0,
            fault: undefined,
          }
        : {
            status: 'SHUTOFF',
            vmState: 'stopped',
            taskState: task('powering-on'),
            powerState: 4,
            fault: undefined,
          };
    case 'running':
      return {
        status: 'ACTIVE',
        vmState: 'active',
        taskState: task(null),
        powerState: 1,
        fault: undefined,
      };
    case 'stopping':
      return {
        status: 'ACTIVE',
        vmState: 'active',
        taskState: deleting ? 'deleting' : 'powering-off',
        powerState: 1,
        fault: undefined,
      };
    case 'stopped':
      return {
        status: 'SHUTOFF',
        vmState: 'stopped',
        taskState: task(null),
        powerState: 4,
        fault: undefined,
      };
    case 'error':
      return {
        status: 'ERROR',
        vmState: 'error',
        taskState: task(null),
        powerState: 0,
        fault: {
          code: 500,
          message: machine.error ?? 'The machine failed on its provider.',
          created: server.updatedAt,
        },
      };
  }
}

/** Links to a server, flavor or image, as Nova gives them: versioned self, unversioned bookmark. */
export function links(
  computeUrl: string,
  collection: string,
  id: string,
): { rel: string; href: string }[] {
  const root = computeUrl.replace(/\/v2(\.1)?\/?$/, '');
  return [
    { rel: 'self', href: `${computeUrl}/${collection}/${id}` },
    { rel: 'bookmark', href: `${root}/${collection}/${id}` },
  ];
}

/** A stable MAC for an address, in OpenStack's fa:16:3e prefix. */
export function macFor(serverId: string, address: string): string {
  const h = createHash('sha256').update(`${serverId}/${address}`).digest('hex');
  return `fa:16:3e:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}`;
}

/** Nova's timestamp format for `created`/`updated`: seconds and `Z`. */
export const novaTime = (iso: string): string => iso.replace(/\.\d+Z$/, 'Z');

export interface ServerViewInput {
  readonly server: ServerObject;
  readonly machine: AdHocMachine | undefined;
  readonly flavor: Flavor | undefined;
  /** Name of the server's Neutron network, for `addresses`. */
  readonly networkName: string;
  readonly securityGroupNames: readonly string[];
  readonly computeUrl: string;
  readonly microversion: Microversion;
}

/** `GET /servers/{id}` and each entry of `GET /servers/detail`. */
export function serverDetail(input: ServerViewInput): Record<string, unknown> {
  const { server, machine, microversion } = input;
  const state = novaState(server, machine);
  const host = machine === undefined ? '' : `${machine.provider}:${machine.zone}`;
  const addresses =
    machine === undefined || machine.status !== 'present'
      ? {}
      : {
          [input.networkName]: machine.addresses.map((a) => ({
            version: 4,
            addr: a.address,
            'OS-EXT-IPS:type': a.type === 'public' ? 'floating' : 'fixed',
            'OS-EXT-IPS-MAC:mac_addr': macFor(server.id, a.address),
          })),
        };
  const flavorId = input.flavor?.id ?? server.flavorId;
  const body: Record<string, unknown> = {
    id: server.id,
    name: server.name,
    status: state.status,
    tenant_id: server.projectId,
    user_id: server.userId,
    metadata: server.metadata,
    hostId:
      host === ''
        ? ''
        : createHash('sha224')
            .update(server.projectId + host)
            .digest('hex'),
    image: {
      id: server.imageId,
      links: links(input.computeUrl, 'images', server.imageId).slice(1),
    },
    flavor: { id: flavorId, links: links(input.computeUrl, 'flavors', flavorId).slice(1) },
    created: novaTime(server.createdAt),
    updated: novaTime(server.updatedAt),
    addresses,
    accessIPv4: '',
    accessIPv6: '',
    links: links(input.computeUrl, 'servers', server.id),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone':
      machine === undefined ? server.availabilityZone : `${machine.provider}:${machine.zone}`,
    config_drive: '',
    key_name: server.keyName,
    'OS-SRV-USG:launched_at':
      server.launchedAt === null
        ? null
        : server.launchedAt.replace(/Z$/, '').replace(/\.(\d{3})$/, '.$1000'),
    'OS-SRV-USG:terminated_at': null,
    security_groups: input.securityGroupNames.map((name) => ({ name })),
    'OS-EXT-STS:task_state': state.taskState,
    'OS-EXT-STS:vm_state': state.vmState,
    'OS-EXT-STS:power_state': state.powerState,
    'os-extended-volumes:volumes_attached': [],
  };
  if (state.fault !== undefined)
    body['fault'] = {
      code: state.fault.code,
      created: novaTime(state.fault.created),
      message: state.fault.message,
    };
  // NOTE: Nova reports the instance's progress, which stays 0 outside resizes and migrations.
  if (state.status === 'ACTIVE' || state.status === 'BUILD') body['progress'] = 0;
  if (atLeast(microversion, 9)) body['locked'] = false;
  if (atLeast(microversion, 19)) body['description'] = server.description;
  if (atLeast(microversion, 26)) body['tags'] = [];
  return body;
}

/** Each entry of `GET /servers`. */
export function serverSummary(server: ServerObject, computeUrl: string): Record<string, unknown> {
  return { id: server.id, name: server.name, links: links(computeUrl, 'servers', server.id) };
}
