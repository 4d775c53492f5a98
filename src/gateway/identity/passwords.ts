/**
 * Password hashes: scrypt with a random 16-byte salt per hash. The gateway hashes each
 * user's password once at start (from the environment variable the spec names) and
 * keeps only the hash, so the plain text is never stored or logged.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/** A salted scrypt hash and the parameters it was made with. */
export interface PasswordHash {
  readonly salt: Buffer;
  readonly hash: Buffer;
  readonly params: Readonly<Required<Pick<ScryptOptions, 'N' | 'r' | 'p'>>>;
}

/** OWASP's scrypt minimum (N=2^17, r=8, p=1) costs ~128 MiB per check; 2^15 keeps a login at ~32 MiB and tens of ms. */
export const DEFAULT_SCRYPT = Object.freeze({ N: 2 ** 15, r: 8, p: 1 });
const KEY_LENGTH = 32;

function derive(password: string, salt: Buffer, params: PasswordHash['params']): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(
      password.normalize('NFC'),
      salt,
      KEY_LENGTH,
      { ...params, maxmem: 256 * params.N * params.r },
      (err, key) => (err ? reject(err) : resolve(key)),
    );
  });
}

/**
 * Hashes `password` with a fresh salt.
 *
 * @example
 * ```ts
 * const stored = await hashPassword(process.env.KUMO_GATEWAY_DEMO_PASSWORD!);
 * await verifyPassword('guess', stored); // false
 * ```
 */
export async function hashPassword(
  password: string,
  params: PasswordHash['params'] = DEFAULT_SCRYPT,
): Promise<PasswordHash> {
  const salt = randomBytes(16);
  return { salt, hash: await derive(password, salt, params), params };
}

/** True when `password` matches; compares in constant time. */
export async function verifyPassword(password: string, stored: PasswordHash): Promise<boolean> {
  const candidate = await derive(password, stored.salt, stored.params);
  return candidate.length === stored.hash.length && timingSafeEqual(candidate, stored.hash);
}
