/**
 * A stateful EC2 wire fake: nock intercepts the official SDK's HTTPS requests to the
 * regional endpoint, reads the Query-protocol form body, acts on in-memory state and
 * answers with EC2's documented XML — including the error envelope, the documented
 * token-bucket throttling and injected faults — so the real SDK parses every byte.
 *
 * @example
 * ```ts
 * const fake = new Ec2Fake({ clock }).install();
 * const client = new EC2Client({ region: 'us-east-1', credentials: testCredentials() });
 * fake.faults.throttle(2);
 * fake.uninstall();
 * ```
 */
import { createHash } from 'node:crypto';
import nock from 'nock';
import { seededRandom, systemClock, type Clock, type Random } from '../../../src/core/index.js';
import type { ContractFaults } from '../../contract/provider-contract.js';
import {
  FAKE_IMAGES,
  FAKE_INSTANCE_TYPES,
  FAKE_SPOT_PRICES,
  FAKE_ZONES,
  type FakeInstanceType,
} from './catalog.js';
import { Ec2Error } from './errors.js';
import * as catalog from './handlers/catalog.js';
import type { Handler, HandlerContext } from './handlers/context.js';
import * as instances from './handlers/instances.js';
import * as network from './handlers/network.js';
import { DOCUMENTED_EC2_LIMITS, Throttle, type Ec2Limits } from './limits.js';
import { filters, list, parseForm } from './query.js';
import { FakeState } from './state.js';
import { errorResponse, response } from './xml.js';

/** The access key id the fake accepts. */
export const TEST_ACCESS_KEY_ID = 'AKIAKUMOFAKE00000001';

/**
 * Static credentials the fake accepts; tests hand these to the SDK, never the real
 * environment. A fresh object each time, because the SDK writes into it.
 */
export function testCredentials(): { accessKeyId: string; secretAccessKey: string } {
  return { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: 'kumo-fake-secret-not-a-real-key' };
}

export interface FaultRates {
  /** Chance per request of a transient 5xx (InternalError 500 or Unavailable 503). */
  readonly transient?: number;
  /** Chance per request of RequestLimitExceeded regardless of the buckets. */
  readonly throttle?: number;
  /** Chance per mutating request that it is carried out and the connection then drops. */
  readonly timeoutAfterSuccess?: number;
  /** Chance per RunInstances of InsufficientInstanceCapacity. */
  readonly capacity?: number;
  /** Chance per RunInstances that its instances stay invisible to lookups by id for a while. */
  readonly eventualConsistency?: number;
}

export interface Ec2FakeOptions {
  readonly region?: string;
  readonly clock?: Clock;
  readonly seed?: number;
  readonly zones?: readonly string[];
  readonly instanceTypes?: readonly FakeInstanceType[];
  /** pending → running. Default 15 s. */
  readonly bootMs?: number;
  readonly stopMs?: number;
  readonly terminateMs?: number;
  readonly terminatedVisibleMs?: number;
  /** Token buckets; `false` turns throttling off. Default: EC2's documented limits. */
  readonly limits?: Ec2Limits | false;
  /** Most live instances per zone (InsufficientInstanceCapacity beyond). */
  readonly zoneCapacity?: Readonly<Record<string, number>>;
  /** The account's On-Demand vCPU limit. Default unlimited. */
  readonly vcpuLimit?: number;
  readonly faultRates?: FaultRates;
  /** How long eventual consistency hides new instances. Default 3 s. */
  readonly eventualConsistencyMs?: number;
  /** Give the account a default VPC with a default subnet per zone. Default true. */
  readonly defaultVpc?: boolean;
}

/** Fault hooks: the contract suite's four plus eventual consistency. */
export interface Ec2Faults extends ContractFaults {
  /** The next `n` launches make instances that lookups by id cannot see for a while. */
  eventualConsistency(n?: number): void;
}

const MUTATING =
  /^(Run|Terminate|Start|Stop|Create|Delete|Modify|Attach|Detach|Associate|Disassociate|Authorize|Revoke|Import)/;

const HANDLERS: Readonly<Record<string, Handler>> = {
  RunInstances: instances.runInstances,
  DescribeInstances: instances.describeInstances,
  TerminateInstances: instances.terminateInstances,
  StartInstances: instances.startInstances,
  StopInstances: instances.stopInstances,
  CreateTags: instances.createTags,
  ImportKeyPair: instances.importKeyPair,
  DescribeKeyPairs: instances.describeKeyPairs,
  DeleteKeyPair: instances.deleteKeyPair,
  DescribeInstanceTypes: catalog.describeInstanceTypes,
  DescribeInstanceTypeOfferings: catalog.describeInstanceTypeOfferings,
  DescribeSpotPriceHistory: catalog.describeSpotPriceHistory,
  DescribeImages: catalog.describeImages,
  DescribeAvailabilityZones: catalog.describeAvailabilityZones,
  CreateVpc: network.createVpc,
  DescribeVpcs: network.describeVpcs,
  ModifyVpcAttribute: network.modifyVpcAttribute,
  DeleteVpc: network.deleteVpc,
  CreateSubnet: network.createSubnet,
  DescribeSubnets: network.describeSubnets,
  ModifySubnetAttribute: network.modifySubnetAttribute,
  DeleteSubnet: network.deleteSubnet,
  CreateInternetGateway: network.createInternetGateway,
  AttachInternetGateway: network.attachInternetGateway,
  DetachInternetGateway: network.detachInternetGateway,
  DeleteInternetGateway: network.deleteInternetGateway,
  DescribeInternetGateways: network.describeInternetGateways,
  CreateRouteTable: network.createRouteTable,
  CreateRoute: network.createRoute,
  AssociateRouteTable: network.associateRouteTable,
  DisassociateRouteTable: network.disassociateRouteTable,
  DeleteRouteTable: network.deleteRouteTable,
  DescribeRouteTables: network.describeRouteTables,
  CreateSecurityGroup: network.createSecurityGroup,
  DescribeSecurityGroups: network.describeSecurityGroups,
  AuthorizeSecurityGroupIngress: network.authorizeSecurityGroupIngress,
  AuthorizeSecurityGroupEgress: network.authorizeSecurityGroupEgress,
  RevokeSecurityGroupIngress: network.revokeSecurityGroupIngress,
  RevokeSecurityGroupEgress: network.revokeSecurityGroupEgress,
  DeleteSecurityGroup: network.deleteSecurityGroup,
};

/** A dropped connection after the fake acted, as the SDK's HTTP handler sees it. */
function droppedConnection(): Error {
  return Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
}

export class Ec2Fake {
  readonly region: string;
  readonly endpoint: string;
  readonly clock: Clock;
  readonly state: FakeState;
  /** Requests received, by action (throttled and faulted ones included). */
  readonly calls = new Map<string, number>();
  /** Faults given out, by kind. */
  readonly injected = new Map<string, number>();
  readonly throttle: Throttle | undefined;
  readonly faults: Ec2Faults;
  readonly #ctx: HandlerContext;
  readonly #random: Random;
  readonly #rates: FaultRates;
  readonly #queued = {
    throttle: 0,
    transient: 0,
    capacity: 0,
    timeoutAfterCreate: 0,
    eventualConsistency: 0,
  };
  readonly #consistencyMs: number;
  #requests = 0;
  #interceptor: nock.Interceptor | undefined;

  constructor(options: Ec2FakeOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.endpoint = `https://ec2.${this.region}.amazonaws.com`;
    this.clock = options.clock ?? systemClock;
    const seed = options.seed ?? 1;
    this.#random = seededRandom(seed);
    this.#rates = options.faultRates ?? {};
    this.#consistencyMs = options.eventualConsistencyMs ?? 3000;
    this.state = new FakeState(
      this.clock,
      {
        bootMs: options.bootMs ?? 15_000,
        stopMs: options.stopMs ?? 10_000,
        terminateMs: options.terminateMs ?? 10_000,
        terminatedVisibleMs: options.terminatedVisibleMs ?? 3_600_000,
      },
      String(seed),
    );
    for (const image of FAKE_IMAGES) this.state.images.set(image.id, image);
    const zones = options.zones ?? FAKE_ZONES;
    if (options.defaultVpc !== false) {
      const vpc = network.makeVpc(this.state, '172.31.0.0/16', new Map(), true);
      zones.forEach((z, i) =>
        network.makeSubnet(this.state, vpc, `172.31.${i * 16}.0/20`, z, new Map(), true),
      );
      const igw = this.state.newId('igw');
      this.state.internetGateways.set(igw, { id: igw, tags: new Map(), vpcId: vpc });
      const main = [...this.state.routeTables.values()].find((r) => r.vpcId === vpc)!;
      main.routes.push({ destination: '0.0.0.0/0', gatewayId: igw, origin: 'CreateRoute' });
    }
    this.throttle =
      options.limits === false
        ? undefined
        : new Throttle(options.limits ?? DOCUMENTED_EC2_LIMITS, this.clock);
    const queued = this.#queued;
    const random = this.#random;
    const rates = this.#rates;
    const note = (kind: string) => this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
    this.#ctx = {
      state: this.state,
      region: this.region,
      zones,
      types: options.instanceTypes ?? FAKE_INSTANCE_TYPES,
      spotPrices: FAKE_SPOT_PRICES,
      zoneCapacity: options.zoneCapacity ?? {},
      vcpuLimit: options.vcpuLimit ?? Number.POSITIVE_INFINITY,
      visibilityLagMs: () => {
        if (queued.eventualConsistency > 0 || random() < (rates.eventualConsistency ?? 0)) {
          queued.eventualConsistency = Math.max(0, queued.eventualConsistency - 1);
          note('eventualConsistency');
          return this.#consistencyMs;
        }
        return 0;
      },
      admitLaunch: (n) => this.throttle?.admitResources('RunInstances', n) ?? true,
      takeCapacityFault: () => {
        if (queued.capacity > 0 || random() < (rates.capacity ?? 0)) {
          queued.capacity = Math.max(0, queued.capacity - 1);
          note('capacity');
          return true;
        }
        return false;
      },
    };
    this.faults = {
      timeoutAfterCreate: () => void (queued.timeoutAfterCreate += 1),
      throttle: (n) => void (queued.throttle += n),
      transient: (n) => void (queued.transient += n),
      capacity: () => void (queued.capacity += 1),
      eventualConsistency: (n = 1) => void (queued.eventualConsistency += n),
    };
  }

  /** Starts intercepting the endpoint; every other host is refused (loopback stays open). */
  install(): this {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
    const handle = (body: string, auth: string | undefined) => this.handle(body, auth);
    this.#interceptor = nock(this.endpoint).persist().post('/');
    // NOTE: a `function`, not an arrow: nock passes the intercepted request as `this`.
    this.#interceptor.reply(async function (this: nock.ReplyFnContext, _uri, body) {
      const headers = this.req.headers as Record<string, string | string[] | undefined>;
      const auth = headers.authorization;
      return handle(
        typeof body === 'string' ? body : JSON.stringify(body),
        Array.isArray(auth) ? auth.join(',') : auth,
      );
    });
    return this;
  }

  uninstall(): void {
    if (this.#interceptor !== undefined) nock.removeInterceptor(this.#interceptor);
    this.#interceptor = undefined;
  }

  /** Requests received in all. */
  get requests(): number {
    return this.#requests;
  }

  #requestId(): string {
    const h = createHash('sha256')
      .update(`${this.state.seed}/request/${this.#requests}`)
      .digest('hex');
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  #note(kind: string): void {
    this.injected.set(kind, (this.injected.get(kind) ?? 0) + 1);
  }

  /** Answers one request: `[status, body, headers]`, or throws a connection error. */
  async handle(
    body: string,
    authorization: string | undefined,
  ): Promise<[number, string, Record<string, string>]> {
    this.#requests += 1;
    const requestId = this.#requestId();
    const headers = { 'content-type': 'text/xml;charset=UTF-8', 'x-amzn-requestid': requestId };
    const params = parseForm(body);
    const action = params.get('Action') ?? '';
    this.calls.set(action, (this.calls.get(action) ?? 0) + 1);
    try {
      if (
        authorization === undefined ||
        !authorization.includes(`Credential=${TEST_ACCESS_KEY_ID}/`)
      )
        throw new Ec2Error(
          'AuthFailure',
          'AWS was not able to validate the provided access credentials',
          401,
        );
      const handler = HANDLERS[action];
      if (handler === undefined)
        throw new Ec2Error(
          'InvalidAction',
          `The action ${action} is not valid for this web service.`,
        );
      this.#injectRequestFaults();
      if (this.throttle !== undefined) {
        const ids = list(params, 'InstanceId');
        const unfiltered =
          action.startsWith('Describe') &&
          filters(params).length === 0 &&
          ids.length === 0 &&
          !params.has('MaxResults');
        // RunInstances spends instance tokens only when it launches (see its handler).
        const resources = ['TerminateInstances', 'StartInstances', 'StopInstances'].includes(action)
          ? ids.length
          : 0;
        if (!this.throttle.admit(action, { unfiltered, resources }))
          throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
      }
      const out = handler(this.#ctx, params);
      if (action === 'RunInstances' && this.#queued.timeoutAfterCreate > 0) {
        this.#queued.timeoutAfterCreate -= 1;
        this.#note('timeoutAfterSuccess');
        throw droppedConnection();
      }
      if (MUTATING.test(action) && this.#random() < (this.#rates.timeoutAfterSuccess ?? 0)) {
        this.#note('timeoutAfterSuccess');
        throw droppedConnection();
      }
      return [200, response(action, requestId, out), headers];
    } catch (err) {
      if (!(err instanceof Ec2Error)) throw err;
      return [err.status, errorResponse(err.code, err.message, requestId), headers];
    }
  }

  #injectRequestFaults(): void {
    const q = this.#queued;
    if (q.throttle > 0 || this.#random() < (this.#rates.throttle ?? 0)) {
      q.throttle = Math.max(0, q.throttle - 1);
      this.#note('throttle');
      throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503);
    }
    if (q.transient > 0 || this.#random() < (this.#rates.transient ?? 0)) {
      q.transient = Math.max(0, q.transient - 1);
      this.#note('transient');
      if (this.#random() < 0.5)
        throw new Ec2Error('InternalError', 'An internal error has occurred', 500);
      throw new Ec2Error(
        'Unavailable',
        "The server is overloaded and can't handle the request.",
        503,
      );
    }
  }
}
