/**
 * Key pairs: OpenSSH public keys, checked and fingerprinted as Nova does (the MD5 of
 * the key blob, colon-separated), or made on request (an RSA key whose private half is
 * returned once, in the create response, and never kept).
 */
import { createHash, createPublicKey, generateKeyPair } from 'node:crypto';
import { badRequest } from '../http/errors.js';

/** The key types a machine's `sshKeys` accept (see MachineSpecSchema). */
const TYPES = [
  'ssh-rsa',
  'ssh-ed25519',
  'ssh-dss',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
];

function readString(blob: Buffer, offset: number): { value: Buffer; next: number } | undefined {
  if (offset + 4 > blob.length) return undefined;
  const length = blob.readUInt32BE(offset);
  if (offset + 4 + length > blob.length) return undefined;
  return { value: blob.subarray(offset + 4, offset + 4 + length), next: offset + 4 + length };
}

/**
 * Checks an OpenSSH public key line (`ssh-ed25519 AAAA… comment`) and returns it
 * normalised, with its fingerprint.
 * @throws HttpError 400 for anything that is not one.
 */
export function checkPublicKey(line: string): { publicKey: string; fingerprint: string } {
  const bad = () =>
    badRequest(
      'Keypair data is invalid: failed to generate fingerprint (give an OpenSSH public key such as "ssh-ed25519 AAAA… comment").',
    );
  const parts = line.trim().split(/\s+/);
  const [type, data] = parts;
  if (
    type === undefined ||
    data === undefined ||
    !TYPES.includes(type) ||
    !/^[A-Za-z0-9+/]+={0,2}$/.test(data)
  )
    throw bad();
  const blob = Buffer.from(data, 'base64');
  const inner = readString(blob, 0);
  if (inner === undefined || inner.value.toString('latin1') !== type || inner.next >= blob.length)
    throw bad();
  const publicKey = [type, data, ...parts.slice(2)].join(' ');
  return { publicKey, fingerprint: fingerprintOf(blob) };
}

/** Nova's (legacy) key fingerprint: MD5 of the key blob, as colon-separated hex. */
export function fingerprintOf(blob: Buffer): string {
  return (createHash('md5').update(blob).digest('hex').match(/../g) ?? []).join(':');
}

function sshString(value: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(value.length);
  return Buffer.concat([length, value]);
}

/** An SSH mpint from an unsigned big-endian integer. */
function mpint(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0) v = v.subarray(1);
  if ((v[0] ?? 0) & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
  return sshString(v);
}

/** Makes an RSA key pair: the OpenSSH public key line, its fingerprint, and the PEM private key. */
export async function generateRsaKeyPair(
  comment: string,
): Promise<{ publicKey: string; fingerprint: string; privateKey: string }> {
  const { publicKey, privateKey } = await new Promise<{ publicKey: string; privateKey: string }>(
    (resolve, reject) =>
      generateKeyPair(
        'rsa',
        {
          modulusLength: 2048,
          publicKeyEncoding: { type: 'spki', format: 'pem' },
          privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
        },
        (err, pub, priv) => (err ? reject(err) : resolve({ publicKey: pub, privateKey: priv })),
      ),
  );
  const jwk = createPublicKey(publicKey).export({ format: 'jwk' });
  const blob = Buffer.concat([
    sshString(Buffer.from('ssh-rsa')),
    mpint(Buffer.from(jwk.e ?? '', 'base64url')),
    mpint(Buffer.from(jwk.n ?? '', 'base64url')),
  ]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}`,
    fingerprint: fingerprintOf(blob),
    privateKey,
  };
}
