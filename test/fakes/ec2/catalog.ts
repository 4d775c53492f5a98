/**
 * What the fake region offers: instance types (figures as DescribeInstanceTypes
 * reports them), where each is offered, spot prices and public images by owner.
 */

export interface FakeInstanceType {
  readonly name: string;
  readonly vcpus: number;
  readonly memoryMiB: number;
  readonly arch: 'x86_64' | 'arm64';
  readonly currentGeneration: boolean;
  readonly spot: boolean;
  readonly burstable?: boolean;
  readonly gpus?: { count: number; name: string; manufacturer: string; memoryMiB: number };
  /** Local instance storage in GB, when the type has some. */
  readonly storageGB?: number;
  /** Zones where offered; absent means every zone. */
  readonly zones?: readonly string[];
}

export const FAKE_ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c'] as const;

export const FAKE_INSTANCE_TYPES: readonly FakeInstanceType[] = [
  {
    name: 't3.micro',
    vcpus: 2,
    memoryMiB: 1024,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't3.small',
    vcpus: 2,
    memoryMiB: 2048,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't3.medium',
    vcpus: 2,
    memoryMiB: 4096,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't3.large',
    vcpus: 2,
    memoryMiB: 8192,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't3.xlarge',
    vcpus: 4,
    memoryMiB: 16384,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't4g.micro',
    vcpus: 2,
    memoryMiB: 1024,
    arch: 'arm64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't4g.small',
    vcpus: 2,
    memoryMiB: 2048,
    arch: 'arm64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 't4g.medium',
    vcpus: 2,
    memoryMiB: 4096,
    arch: 'arm64',
    currentGeneration: true,
    spot: true,
    burstable: true,
  },
  {
    name: 'm5.large',
    vcpus: 2,
    memoryMiB: 8192,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'm5.xlarge',
    vcpus: 4,
    memoryMiB: 16384,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'm6i.large',
    vcpus: 2,
    memoryMiB: 8192,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'm6i.xlarge',
    vcpus: 4,
    memoryMiB: 16384,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'm6i.2xlarge',
    vcpus: 8,
    memoryMiB: 32768,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'm7g.large',
    vcpus: 2,
    memoryMiB: 8192,
    arch: 'arm64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'c6i.large',
    vcpus: 2,
    memoryMiB: 4096,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'c6i.xlarge',
    vcpus: 4,
    memoryMiB: 8192,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'c7g.large',
    vcpus: 2,
    memoryMiB: 4096,
    arch: 'arm64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'r6i.large',
    vcpus: 2,
    memoryMiB: 16384,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
  },
  {
    name: 'i3.large',
    vcpus: 2,
    memoryMiB: 15616,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    storageGB: 475,
  },
  {
    name: 'g4dn.xlarge',
    vcpus: 4,
    memoryMiB: 16384,
    arch: 'x86_64',
    currentGeneration: true,
    spot: true,
    storageGB: 125,
    gpus: { count: 1, name: 'T4', manufacturer: 'NVIDIA', memoryMiB: 16384 },
    zones: ['us-east-1a', 'us-east-1b'],
  },
  {
    name: 'p3.2xlarge',
    vcpus: 8,
    memoryMiB: 62464,
    arch: 'x86_64',
    currentGeneration: true,
    spot: false,
    gpus: { count: 1, name: 'V100', manufacturer: 'NVIDIA', memoryMiB: 16384 },
    zones: ['us-east-1c'],
  },
  {
    name: 'm4.large',
    vcpus: 2,
    memoryMiB: 8192,
    arch: 'x86_64',
    currentGeneration: false,
    spot: true,
  },
];

/** Spot prices (USD/hour) by type; zones vary by a small step so "cheapest zone" is visible. */
export const FAKE_SPOT_PRICES: Readonly<Record<string, number>> = {
  't3.micro': 0.0031,
  't3.small': 0.0062,
  't3.medium': 0.0125,
  't3.large': 0.025,
  't3.xlarge': 0.0501,
  't4g.micro': 0.0025,
  't4g.small': 0.005,
  't4g.medium': 0.0101,
  'm5.large': 0.0353,
  'm5.xlarge': 0.0706,
  'm6i.large': 0.0381,
  'm6i.xlarge': 0.0762,
  'm6i.2xlarge': 0.1523,
  'm7g.large': 0.0311,
  'c6i.large': 0.0302,
  'c6i.xlarge': 0.0604,
  'c7g.large': 0.0263,
  'r6i.large': 0.0455,
  'i3.large': 0.0281,
  'g4dn.xlarge': 0.2211,
  'm4.large': 0.0349,
};

export const OWNER_CANONICAL = '099720109477';
export const OWNER_DEBIAN = '136693071363';
export const OWNER_AMAZON = '137112412989';
export const OWNER_ROCKY = '792107900819';
/** The fake account's own id (images it made, resources it owns). */
export const FAKE_ACCOUNT = '123456789012';

export interface FakeImage {
  readonly id: string;
  readonly name: string;
  readonly owner: string;
  readonly arch: 'x86_64' | 'arm64';
  readonly creationDate: string;
  readonly description?: string;
  readonly state?: 'available' | 'pending' | 'deregistered';
}

/** Public images as their publishers name them; two dates per series so "newest first" matters. */
export const FAKE_IMAGES: readonly FakeImage[] = [
  {
    id: 'ami-0c7217cdde317cfec',
    name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240301',
    owner: OWNER_CANONICAL,
    arch: 'x86_64',
    creationDate: '2024-03-01T08:12:44.000Z',
    description: 'Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-03-01',
  },
  {
    id: 'ami-04b70fa74e45c3917',
    name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240501',
    owner: OWNER_CANONICAL,
    arch: 'x86_64',
    creationDate: '2024-05-01T07:30:10.000Z',
    description: 'Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-05-01',
  },
  {
    id: 'ami-0a55ba1c20b74fc30',
    name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-arm64-server-20240501',
    owner: OWNER_CANONICAL,
    arch: 'arm64',
    creationDate: '2024-05-01T07:31:02.000Z',
  },
  {
    id: 'ami-0e001c9271cf7f3b9',
    name: 'ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20240601',
    owner: OWNER_CANONICAL,
    arch: 'x86_64',
    creationDate: '2024-06-01T06:00:00.000Z',
    state: 'pending',
  },
  {
    id: 'ami-04a81a99f5ec58529',
    name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20240701',
    owner: OWNER_CANONICAL,
    arch: 'x86_64',
    creationDate: '2024-07-01T09:41:20.000Z',
  },
  {
    id: 'ami-0c14ff330901e49ff',
    name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20240701',
    owner: OWNER_CANONICAL,
    arch: 'arm64',
    creationDate: '2024-07-01T09:42:05.000Z',
  },
  {
    id: 'ami-0261755bbcb8c4a84',
    name: 'ubuntu/images/hvm-ssd/ubuntu-focal-20.04-amd64-server-20240228',
    owner: OWNER_CANONICAL,
    arch: 'x86_64',
    creationDate: '2024-02-28T11:02:33.000Z',
  },
  {
    id: 'ami-058bd2d568351da34',
    name: 'debian-12-amd64-20240201-1644',
    owner: OWNER_DEBIAN,
    arch: 'x86_64',
    creationDate: '2024-02-01T17:02:00.000Z',
  },
  {
    id: 'ami-064519b8c76274859',
    name: 'debian-12-amd64-20240507-1740',
    owner: OWNER_DEBIAN,
    arch: 'x86_64',
    creationDate: '2024-05-07T18:04:11.000Z',
  },
  {
    id: 'ami-0789039e34e739d67',
    name: 'debian-12-arm64-20240507-1740',
    owner: OWNER_DEBIAN,
    arch: 'arm64',
    creationDate: '2024-05-07T18:05:40.000Z',
  },
  {
    id: 'ami-0a1b9c6e5c8bd3e2d',
    name: 'debian-11-amd64-20240507-1740',
    owner: OWNER_DEBIAN,
    arch: 'x86_64',
    creationDate: '2024-05-07T18:20:00.000Z',
  },
  {
    id: 'ami-0bb84b8ffd87024d8',
    name: 'al2023-ami-2023.4.20240513.0-kernel-6.1-x86_64',
    owner: OWNER_AMAZON,
    arch: 'x86_64',
    creationDate: '2024-05-13T20:55:29.000Z',
  },
  {
    id: 'ami-0b6f8d8f1bd6b3c7e',
    name: 'al2023-ami-2023.4.20240513.0-kernel-6.1-arm64',
    owner: OWNER_AMAZON,
    arch: 'arm64',
    creationDate: '2024-05-13T20:56:07.000Z',
  },
  {
    id: 'ami-0d1c9ab3a7b5c3c11',
    name: 'al2023-ami-minimal-2023.4.20240528.0-kernel-6.1-x86_64',
    owner: OWNER_AMAZON,
    arch: 'x86_64',
    creationDate: '2024-05-28T19:02:00.000Z',
  },
  {
    id: 'ami-0fe630eb857a6ec83',
    name: 'Rocky-9-EC2-Base-9.4-20240523.0.x86_64',
    owner: OWNER_ROCKY,
    arch: 'x86_64',
    creationDate: '2024-05-23T14:10:00.000Z',
  },
  {
    id: 'ami-0123456789abcdef0',
    name: 'team-golden-image-7',
    owner: FAKE_ACCOUNT,
    arch: 'x86_64',
    creationDate: '2024-04-02T10:00:00.000Z',
    description: 'an image the account made itself',
  },
];
