import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  configDriveFiles,
  configDriveIso,
  configDriveJson,
} from '../../../src/providers/baremetal/baremetal-configdrive.js';
import { buildIso9660 } from '../../../src/providers/baremetal/baremetal-iso.js';

const SECTOR = 2048;
const input = {
  instance: '4a75070b-be5b-4874-bbf9-3de2945707e6',
  name: 'web-40f4d4b0-0',
  zone: 'default',
  sshKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKumo kumo@test'],
  userData: '#cloud-config\npackages: [nginx]\n',
  labels: { 'kumo-dc': 'hybrid-1', team: 'Data Eng' },
};

/**
 * Reads a file out of an image by walking the Joliet tree from its volume descriptor,
 * as the ISO 9660 and Joliet specifications lay it out (independent of the writer).
 */
function readJoliet(image: Buffer, path: string): Buffer | undefined {
  const svd = image.subarray(17 * SECTOR, 18 * SECTOR);
  if (svd[0] !== 2 || svd.toString('ascii', 88, 91) !== '%/E') return undefined;
  let extent = svd.readUInt32LE(156 + 2);
  let size = svd.readUInt32LE(156 + 10);
  const parts = path.split('/').filter(Boolean);
  for (const [i, part] of parts.entries()) {
    let found: { extent: number; size: number } | undefined;
    for (let off = extent * SECTOR; off < extent * SECTOR + size;) {
      const len = image[off]!;
      if (len === 0) {
        off = (Math.floor(off / SECTOR) + 1) * SECTOR;
        continue;
      }
      const idLen = image[off + 32]!;
      const id = image.subarray(off + 33, off + 33 + idLen);
      // "." and ".." are the single bytes 0 and 1; every other Joliet name is UCS-2 big-endian.
      const name = idLen === 1 ? '' : Buffer.from(id).swap16().toString('utf16le');
      if (name === part)
        found = { extent: image.readUInt32LE(off + 2), size: image.readUInt32LE(off + 10) };
      off += len;
    }
    if (found === undefined) return undefined;
    if (i === parts.length - 1)
      return image.subarray(found.extent * SECTOR, found.extent * SECTOR + found.size);
    ({ extent, size } = found);
  }
  return undefined;
}

describe('config drive', () => {
  it('carries the instance, host name, SSH keys and labels as OpenStack metadata', () => {
    expect(configDriveJson(input)).toEqual({
      meta_data: {
        uuid: input.instance,
        name: 'web-40f4d4b0-0',
        hostname: 'web-40f4d4b0-0',
        availability_zone: 'default',
        launch_index: 0,
        public_keys: { 'key-0': input.sshKeys[0] },
        keys: [{ name: 'key-0', type: 'ssh', data: input.sshKeys[0] }],
        meta: input.labels,
      },
      user_data: input.userData,
    });
  });

  it('writes the files for both metadata versions cloud-init reads', () => {
    expect(configDriveFiles(input).map((f) => f.path)).toEqual([
      'openstack/2012-08-10/meta_data.json',
      'openstack/2012-08-10/user_data',
      'openstack/latest/meta_data.json',
      'openstack/latest/user_data',
    ]);
  });

  it('packs them as a gzipped, base64 ISO 9660 labelled config-2 for servers before 1.56', () => {
    const image = gunzipSync(
      Buffer.from(configDriveIso(input, new Date('2026-01-01T00:00:00Z')), 'base64'),
    );
    expect(image.length % SECTOR).toBe(0);
    expect(image.toString('ascii', 16 * SECTOR + 1, 16 * SECTOR + 6)).toBe('CD001');
    expect(image.toString('ascii', 16 * SECTOR + 40, 16 * SECTOR + 48)).toBe('config-2');
    const meta = JSON.parse(readJoliet(image, 'openstack/latest/meta_data.json')!.toString('utf8'));
    expect(meta).toMatchObject({
      uuid: input.instance,
      public_keys: { 'key-0': input.sshKeys[0] },
    });
    expect(readJoliet(image, 'openstack/2012-08-10/user_data')!.toString('utf8')).toBe(
      input.userData,
    );
  });

  it('leaves user data out when there is none', () => {
    const { userData: _omit, ...bare } = input;
    expect(configDriveJson(bare)).not.toHaveProperty('user_data');
    expect(configDriveFiles(bare).map((f) => f.path)).toEqual([
      'openstack/2012-08-10/meta_data.json',
      'openstack/latest/meta_data.json',
    ]);
  });
});

describe('ISO 9660 writer', () => {
  const date = new Date('2026-03-04T05:06:07Z');

  it('gives the same bytes for the same files and date', () => {
    const files = [{ path: 'a/b.txt', data: Buffer.from('x') }];
    expect(
      buildIso9660({ volumeId: 'v', files, date }).equals(
        buildIso9660({ volumeId: 'v', files, date }),
      ),
    ).toBe(true);
  });

  it('keeps files larger than a sector whole, and directories with many entries readable', () => {
    const big = Buffer.alloc(5 * SECTOR + 17, 7);
    const files = [
      { path: 'data/big.bin', data: big },
      ...Array.from({ length: 60 }, (_, i) => ({
        path: `many/file-with-a-longish-name-${i}.json`,
        data: Buffer.from(String(i)),
      })),
    ];
    const image = buildIso9660({ volumeId: 'test', files, date });
    expect(readJoliet(image, 'data/big.bin')!.equals(big)).toBe(true);
    expect(readJoliet(image, 'many/file-with-a-longish-name-59.json')!.toString()).toBe('59');
  });

  it('keeps names that fold to one ISO 9660 name apart', () => {
    const image = buildIso9660({
      volumeId: 'v',
      date,
      files: [
        { path: 'a-b', data: Buffer.from('1') },
        { path: 'a_b', data: Buffer.from('2') },
      ],
    });
    expect(readJoliet(image, 'a-b')!.toString()).toBe('1');
    expect(readJoliet(image, 'a_b')!.toString()).toBe('2');
    // The primary tree names them A_B.;1 and A000.;1 (readers without Joliet see both).
    expect(image.includes(Buffer.from('A_B.;1'))).toBe(true);
    expect(image.includes(Buffer.from('A000.;1'))).toBe(true);
  });

  it('refuses a volume label longer than 16 characters', () => {
    expect(() => buildIso9660({ volumeId: 'x'.repeat(17), date, files: [] })).toThrow(
      /1 to 16 characters/,
    );
  });
});
