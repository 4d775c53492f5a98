/**
 * The fake account's resources in one region, kept in memory. Instance states move
 * on lazily when read, by the injected clock, so a scaled or virtual clock drives
 * the whole life cycle without timers.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../../../src/core/index.js';
import { FAKE_ACCOUNT, type FakeImage } from './catalog.js';

export type InstanceStateName =
  'pending' | 'running' | 'shutting-down' | 'terminated' | 'stopping' | 'stopped';

export const STATE_CODES: Readonly<Record<InstanceStateName, number>> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export interface FakeInstance {
  readonly id: string;
  readonly reservationId: string;
  readonly imageId: string;
  readonly type: string;
  readonly arch: 'x86_64' | 'arm64';
  readonly zone: string;
  readonly subnetId: string;
  readonly vpcId: string;
  readonly keyName: string | undefined;
  readonly clientToken: string | undefined;
  readonly amiLaunchIndex: number;
  readonly launchTime: number;
  readonly privateIp: string;
  readonly publicIp: string | undefined;
  readonly groups: readonly string[];
  readonly spot: boolean;
  readonly userData: string | undefined;
  readonly rootVolumeGiB: number;
  readonly volumeTags: ReadonlyMap<string, string>;
  readonly tags: Map<string, string>;
  state: InstanceStateName;
  /** When the current state began. */
  since: number;
  /** DescribeInstances by id cannot see it before this time (eventual consistency). */
  visibleAt: number;
  stateReason: { code: string; message: string } | undefined;
}

export interface FakeReservation {
  readonly id: string;
  readonly instanceIds: readonly string[];
  readonly groups: readonly string[];
}

export interface FakeVpc {
  readonly id: string;
  readonly cidr: string;
  readonly isDefault: boolean;
  readonly tags: Map<string, string>;
  dnsHostnames: boolean;
}

export interface FakeSubnet {
  readonly id: string;
  readonly vpcId: string;
  readonly cidr: string;
  readonly zone: string;
  readonly defaultForAz: boolean;
  readonly tags: Map<string, string>;
  mapPublicIp: boolean;
  nextHost: number;
}

/** One permission per (protocol, ports, cidr), which makes set arithmetic plain. */
export interface FakePermission {
  readonly protocol: string;
  readonly from: number | undefined;
  readonly to: number | undefined;
  readonly cidr: string;
  readonly description: string | undefined;
}

export interface FakeSecurityGroup {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly vpcId: string;
  readonly tags: Map<string, string>;
  ingress: FakePermission[];
  egress: FakePermission[];
}

export interface FakeInternetGateway {
  readonly id: string;
  readonly tags: Map<string, string>;
  vpcId: string | undefined;
}

export interface FakeRouteTable {
  readonly id: string;
  readonly vpcId: string;
  readonly main: boolean;
  readonly tags: Map<string, string>;
  routes: { destination: string; gatewayId: string; origin: 'CreateRouteTable' | 'CreateRoute' }[];
  associations: { id: string; subnetId: string | undefined; main: boolean }[];
}

export interface FakeKeyPair {
  readonly id: string;
  readonly name: string;
  readonly fingerprint: string;
  readonly material: string;
  readonly tags: Map<string, string>;
}

export interface LifecycleTimes {
  /** pending → running. */
  readonly bootMs: number;
  /** stopping → stopped. */
  readonly stopMs: number;
  /** shutting-down → terminated. */
  readonly terminateMs: number;
  /** How long terminated instances stay visible (EC2: about an hour). */
  readonly terminatedVisibleMs: number;
}

export function ipToNumber(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function numberToIp(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function cidrBounds(cidr: string): { first: number; last: number; bits: number } {
  const [ip = '0.0.0.0', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const size = 2 ** (32 - bits);
  const first = ipToNumber(ip) - (ipToNumber(ip) % size);
  return { first, last: first + size - 1, bits };
}

export class FakeState {
  readonly instances = new Map<string, FakeInstance>();
  readonly reservations = new Map<string, FakeReservation>();
  /** `token|scope` → the reservation it made and the parameters it was made with. */
  readonly clientTokens = new Map<string, { fingerprint: string; reservationId: string }>();
  readonly vpcs = new Map<string, FakeVpc>();
  readonly subnets = new Map<string, FakeSubnet>();
  readonly securityGroups = new Map<string, FakeSecurityGroup>();
  readonly internetGateways = new Map<string, FakeInternetGateway>();
  readonly routeTables = new Map<string, FakeRouteTable>();
  readonly keyPairs = new Map<string, FakeKeyPair>();
  readonly images = new Map<string, FakeImage>();
  readonly account = FAKE_ACCOUNT;
  #seq = 0;
  #publicIp = 0;

  constructor(
    readonly clock: Clock,
    readonly times: LifecycleTimes,
    readonly seed: string,
  ) {}

  /** A fresh id in EC2's style (`i-` and 17 hex digits), deterministic per seed. */
  newId(prefix: string): string {
    this.#seq += 1;
    return `${prefix}-${createHash('sha256').update(`${this.seed}/${prefix}/${this.#seq}`).digest('hex').slice(0, 17)}`;
  }

  nextPublicIp(): string {
    this.#publicIp += 1;
    return numberToIp(ipToNumber('54.160.0.0') + this.#publicIp);
  }

  /** Moves an instance along its life cycle to where the clock says it is now. */
  advance(instance: FakeInstance): void {
    const now = this.clock.now();
    if (instance.state === 'pending' && now >= instance.since + this.times.bootMs)
      this.#move(instance, 'running', instance.since + this.times.bootMs);
    if (instance.state === 'stopping' && now >= instance.since + this.times.stopMs)
      this.#move(instance, 'stopped', instance.since + this.times.stopMs);
    if (instance.state === 'shutting-down' && now >= instance.since + this.times.terminateMs)
      this.#move(instance, 'terminated', instance.since + this.times.terminateMs);
    if (instance.state === 'terminated' && now >= instance.since + this.times.terminatedVisibleMs)
      this.instances.delete(instance.id);
  }

  #move(instance: FakeInstance, state: InstanceStateName, at: number): void {
    instance.state = state;
    instance.since = at;
  }

  /** Every instance, moved on to now; purged ones are gone. */
  liveInstances(): FakeInstance[] {
    for (const i of [...this.instances.values()]) this.advance(i);
    return [...this.instances.values()];
  }

  setState(instance: FakeInstance, state: InstanceStateName): void {
    this.#move(instance, state, this.clock.now());
  }
}
