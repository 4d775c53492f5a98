/**
 * Image aliases on EC2: each alias is its publisher's account and AMI name pattern;
 * DescribeImages finds the newest available image of the wanted architecture. Native
 * `ami-…` ids are checked for form, then looked up. Resolutions are cached briefly,
 * since a large pool resolves the same alias once per request.
 */
import { DescribeImagesCommand, type Image as Ec2Image } from '@aws-sdk/client-ec2';
import {
  findImageAlias,
  imageAliasNames,
  NotFound,
  ValidationError,
  type Arch,
  type Clock,
  type Image,
} from '../../core/index.js';
import type { Ec2 } from './aws-client.js';
import { toImage } from './aws-mapper.js';

/** Publishers' AWS account ids, as each documents it. */
export const IMAGE_OWNERS = {
  canonical: '099720109477',
  debian: '136693071363',
  amazon: '137112412989',
  rocky: '792107900819',
} as const;

interface AliasSource {
  readonly owner: string;
  readonly name: (arch: Arch) => string;
}

const deb = (arch: Arch): string => (arch === 'arm64' ? 'arm64' : 'amd64');

/** Where each alias lives on EC2. */
export const EC2_IMAGE_SOURCES: Readonly<Record<string, AliasSource>> = {
  'ubuntu-20.04': {
    owner: IMAGE_OWNERS.canonical,
    name: (a) => `ubuntu/images/hvm-ssd/ubuntu-focal-20.04-${deb(a)}-server-*`,
  },
  'ubuntu-22.04': {
    owner: IMAGE_OWNERS.canonical,
    name: (a) => `ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-${deb(a)}-server-*`,
  },
  'ubuntu-24.04': {
    owner: IMAGE_OWNERS.canonical,
    name: (a) => `ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-${deb(a)}-server-*`,
  },
  'debian-11': { owner: IMAGE_OWNERS.debian, name: (a) => `debian-11-${deb(a)}-*` },
  'debian-12': { owner: IMAGE_OWNERS.debian, name: (a) => `debian-12-${deb(a)}-*` },
  // The "-kernel-" part leaves out the al2023-ami-minimal-… images.
  'amazon-linux-2023': {
    owner: IMAGE_OWNERS.amazon,
    name: (a) => `al2023-ami-2023.*-kernel-*-${a}`,
  },
  'rocky-9': {
    owner: IMAGE_OWNERS.rocky,
    name: (a) => `Rocky-9-EC2-Base-9.*.${a === 'arm64' ? 'aarch64' : 'x86_64'}`,
  },
};

const AMI_ID = /^ami-[0-9a-f]{8}([0-9a-f]{9})?$/;

export class ImageResolver {
  readonly #cache = new Map<string, { image: Image; at: number }>();
  /** Resolutions under way, shared by concurrent callers (a pool of 200 resolves its alias once). */
  readonly #inFlight = new Map<string, Promise<Image>>();

  constructor(
    readonly ec2: Ec2,
    readonly provider: string,
    readonly clock: Clock,
    readonly ttlMs = 600_000,
  ) {}

  async resolve(
    name: string,
    options: { arch?: Arch | undefined; signal?: AbortSignal | undefined } = {},
  ): Promise<Image> {
    const arch = options.arch ?? 'x86_64';
    const key = `${name}|${arch}`;
    const hit = this.#cache.get(key);
    if (hit !== undefined && this.clock.now() - hit.at < this.ttlMs) return hit.image;
    let pending = this.#inFlight.get(key);
    if (pending === undefined) {
      pending = this.#resolve(name, arch, options.arch !== undefined, options.signal).finally(() =>
        this.#inFlight.delete(key),
      );
      this.#inFlight.set(key, pending);
    }
    const image = await pending;
    this.#cache.set(key, { image, at: this.clock.now() });
    return image;
  }

  async #resolve(
    name: string,
    arch: Arch,
    archGiven: boolean,
    signal: AbortSignal | undefined,
  ): Promise<Image> {
    if (name.startsWith('ami-')) {
      if (!AMI_ID.test(name))
        throw new ValidationError(
          `image "${name}" is not a valid AMI id (ami- and 8 or 17 hex digits)`,
          {
            provider: this.provider,
            issues: [{ path: 'spec.image', message: 'malformed AMI id' }],
          },
        );
      const out = await this.ec2.call(
        'DescribeImages',
        (c, abortSignal) =>
          c.send(new DescribeImagesCommand({ ImageIds: [name] }), { abortSignal }),
        signal,
      );
      const found = out.Images?.[0];
      if (found === undefined)
        throw new NotFound(`image ${name} not found in ${this.ec2.config.region}`, {
          provider: this.provider,
          cause: { code: 'InvalidAMIID.NotFound' },
        });
      const image = toImage(found, { provider: this.provider });
      if (archGiven && image.arch !== undefined && image.arch !== arch)
        throw new ValidationError(`image ${name} is ${image.arch} but the size needs ${arch}`, {
          provider: this.provider,
          issues: [
            { path: 'spec.image', message: `architecture ${image.arch} does not match ${arch}` },
          ],
        });
      return image;
    }
    const alias = findImageAlias(name);
    const source = alias === undefined ? undefined : EC2_IMAGE_SOURCES[alias.alias];
    if (alias === undefined || source === undefined) {
      const known = imageAliasNames().filter((a) => EC2_IMAGE_SOURCES[a] !== undefined);
      throw new NotFound(
        `image "${name}" not found: use an AMI id (ami-…) or an alias EC2 offers (${known.join(', ')})`,
        { provider: this.provider, cause: { code: 'UnknownImageAlias' } },
      );
    }
    const candidates: Ec2Image[] = [];
    let token: string | undefined;
    do {
      const page = await this.ec2.call(
        'DescribeImages',
        (c, abortSignal) =>
          c.send(
            new DescribeImagesCommand({
              Owners: [source.owner],
              Filters: [
                { Name: 'name', Values: [source.name(arch)] },
                { Name: 'architecture', Values: [arch] },
                { Name: 'state', Values: ['available'] },
              ],
              MaxResults: 1000,
              ...(token === undefined ? {} : { NextToken: token }),
            }),
            { abortSignal },
          ),
        signal,
      );
      candidates.push(...(page.Images ?? []));
      token = page.NextToken || undefined;
    } while (token !== undefined);
    // Newest first: the publisher's latest build has the latest fixes.
    candidates.sort((a, b) => (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''));
    const newest = candidates[0];
    if (newest === undefined)
      throw new NotFound(
        `no ${arch} image for ${alias.alias} in ${this.ec2.config.region} (owner ${source.owner}, name ${source.name(arch)})`,
        { provider: this.provider, cause: { code: 'InvalidAMIID.NotFound' } },
      );
    return toImage(newest, { provider: this.provider, alias });
  }
}
