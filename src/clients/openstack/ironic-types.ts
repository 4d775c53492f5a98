import { z } from 'zod';

/**
 * Ironic's wire shapes, as much of them as kumo reads. Every field but the id is
 * optional because `?fields=` asks for a subset and older microversions lack newer
 * fields; unknown fields pass through untouched.
 */

const JsonObject = z.record(z.string(), z.unknown());
const nullableString = z.string().nullable().optional();

/** `GET /`: the API's version range. */
export const IronicRootSchema = z.looseObject({
  default_version: z.looseObject({
    id: z.string(),
    min_version: z.string(),
    version: z.string(),
  }),
});
export type IronicRoot = z.infer<typeof IronicRootSchema>;

/** Provision states kumo reasons about; others are kept as plain strings. */
export const PROVISION_STATES = {
  enroll: 'enroll',
  verifying: 'verifying',
  manageable: 'manageable',
  cleaning: 'cleaning',
  cleanWait: 'clean wait',
  cleanFailed: 'clean failed',
  available: 'available',
  deploying: 'deploying',
  waitCallBack: 'wait call-back',
  deployFailed: 'deploy failed',
  active: 'active',
  deleting: 'deleting',
  error: 'error',
  inspecting: 'inspecting',
  inspectFailed: 'inspect failed',
} as const;

export const POWER_ON = 'power on';
export const POWER_OFF = 'power off';

export const IronicNodeSchema = z.looseObject({
  uuid: z.string(),
  name: nullableString,
  driver: z.string().optional(),
  driver_info: JsonObject.optional(),
  provision_state: z.string().optional(),
  target_provision_state: nullableString,
  power_state: nullableString,
  target_power_state: nullableString,
  maintenance: z.boolean().optional(),
  maintenance_reason: nullableString,
  instance_uuid: nullableString,
  last_error: nullableString,
  resource_class: nullableString,
  properties: JsonObject.optional(),
  extra: JsonObject.optional(),
  instance_info: JsonObject.optional(),
  traits: z.array(z.string()).optional(),
  reservation: nullableString,
  allocation_uuid: nullableString,
  conductor_group: nullableString,
  created_at: nullableString,
  updated_at: nullableString,
  provision_updated_at: nullableString,
});
export type IronicNode = z.infer<typeof IronicNodeSchema>;

export const IronicNodeListSchema = z.looseObject({
  nodes: z.array(IronicNodeSchema),
  next: z.string().optional(),
});

export const IronicAllocationSchema = z.looseObject({
  uuid: z.string(),
  name: nullableString,
  state: z.string().optional(),
  node_uuid: nullableString,
  resource_class: nullableString,
  traits: z.array(z.string()).optional(),
  candidate_nodes: z.array(z.string()).optional(),
  last_error: nullableString,
  extra: JsonObject.optional(),
  created_at: nullableString,
});
export type IronicAllocation = z.infer<typeof IronicAllocationSchema>;

export const IronicAllocationListSchema = z.looseObject({
  allocations: z.array(IronicAllocationSchema),
  next: z.string().optional(),
});

export const IronicPortSchema = z.looseObject({
  uuid: z.string(),
  address: z.string(),
  node_uuid: z.string().optional(),
});
export type IronicPort = z.infer<typeof IronicPortSchema>;

export const IronicPortListSchema = z.looseObject({
  ports: z.array(IronicPortSchema),
  next: z.string().optional(),
});

/** One RFC 6902 operation of an Ironic PATCH (Ironic accepts add, replace and remove). */
export interface IronicPatchOp {
  readonly op: 'add' | 'replace' | 'remove';
  readonly path: string;
  readonly value?: unknown;
}

/** Targets of `PUT /v1/nodes/{id}/states/provision`. */
export type ProvisionTarget =
  'manage' | 'provide' | 'active' | 'deleted' | 'rebuild' | 'inspect' | 'abort' | 'undeploy';

/** Body of `PUT …/states/provision`; `configdrive` is a JSON object (≥ 1.56) or a gzipped, base64 ISO 9660 image. */
export interface ProvisionRequest {
  readonly target: ProvisionTarget;
  readonly configdrive?: string | Record<string, unknown>;
}

/** Body of `POST /v1/allocations`. */
export interface AllocationRequest {
  readonly name: string;
  readonly resource_class: string;
  readonly traits?: readonly string[];
  readonly candidate_nodes?: readonly string[];
  readonly extra?: Record<string, unknown>;
}

/** The kinds of driver interface a node has (`deploy_interface`, …). */
export const NODE_INTERFACES = [
  'bios',
  'boot',
  'console',
  'deploy',
  'inspect',
  'management',
  'network',
  'power',
  'raid',
  'rescue',
  'storage',
  'vendor',
] as const;
export type NodeInterface = (typeof NODE_INTERFACES)[number];

/** Body of `POST /v1/nodes`. */
export type NodeCreateRequest = {
  readonly name: string;
  readonly driver: string;
  readonly driver_info?: Record<string, unknown>;
  readonly properties?: Record<string, unknown>;
  readonly resource_class?: string;
  readonly extra?: Record<string, unknown>;
  /** API 1.47+. */
  readonly automated_clean?: boolean;
} & { readonly [K in `${NodeInterface}_interface`]?: string };
