/**
 * Stable identifiers. OpenStack clients expect UUIDs (servers, images, networks) or
 * 32-hex ids (Keystone users and projects); the gateway derives them from names where
 * the object is declared (projects, users, flavors, images), so they survive restarts
 * and are the same on every gateway serving the same spec.
 */
import { createHash, randomUUID } from 'node:crypto';

/** A UUID (version 5 layout) derived from `parts`: the same parts always give the same id. */
export function stableUuid(...parts: readonly string[]): string {
  const hex = createHash('sha256')
    .update(['kumo-gateway', ...parts].join('\u0000'))
    .digest('hex');
  const variant = ((parseInt(hex.slice(16, 18), 16) & 0x3f) | 0x80).toString(16).padStart(2, '0');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${variant}${hex.slice(18, 20)}-${hex.slice(20, 32)}`;
}

/** A Keystone-style id (32 lowercase hex digits) derived from `parts`. */
export function stableHexId(...parts: readonly string[]): string {
  return stableUuid(...parts).replaceAll('-', '');
}

/** A fresh random UUID, for objects made through the API. */
export function newUuid(): string {
  return randomUUID();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}
