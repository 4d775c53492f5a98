/**
 * Tokens: opaque random strings handed out by `POST /v3/auth/tokens`. The store keeps
 * only a SHA-256 of each token (what it says and until when), so neither memory dumps
 * nor logs hold a usable token. Tokens expire, and can be revoked one by one
 * (`DELETE /v3/auth/tokens`). They live in memory: a restarted gateway asks clients
 * to authenticate again, which every OpenStack client does on a 401.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../core/index.js';

export interface Named {
  readonly id: string;
  readonly name: string;
}

/** Who a token speaks for. */
export interface AuthContext {
  readonly user: Named & { readonly domain: Named };
  /** The project the token is scoped to; undefined for an unscoped token. */
  readonly project: (Named & { readonly domain: Named }) | undefined;
  readonly roles: readonly Named[];
  readonly methods: readonly string[];
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** Keystone's audit ids: this token's, then its chain's (the first token it was rescoped from). */
  readonly auditIds: readonly string[];
  /** The audit ids of every token this one was made from, oldest first (what a revoke follows). */
  readonly lineage: readonly string[];
}

const digest = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Tokens kept at most (expired ones are dropped first); beyond it the oldest go. */
const MAX_TOKENS = 100_000;

export class TokenStore {
  readonly #clock: Clock;
  readonly #tokens = new Map<string, AuthContext>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Issues a token for `context` living `ttlMs`, or until `notAfter` when that is
   * sooner (a token made from another token never outlives it).
   */
  issue(
    context: Omit<AuthContext, 'issuedAt' | 'expiresAt' | 'auditIds' | 'lineage'>,
    ttlMs: number,
    from?: AuthContext,
  ): { token: string; context: AuthContext } {
    this.#purge();
    const now = this.#clock.now();
    const expires = Math.min(now + ttlMs, from?.expiresAt.getTime() ?? Number.POSITIVE_INFINITY);
    // A letter first: base64url may start with "-", and a command line then takes the
    // token for an option (`openstack token revoke -Xy…` fails with a usage error).
    const token = `k${randomBytes(32).toString('base64url')}`;
    const auditId = randomBytes(16).toString('base64url').slice(0, 22);
    const full: AuthContext = {
      ...context,
      issuedAt: new Date(now),
      expiresAt: new Date(expires),
      auditIds: from === undefined ? [auditId] : [auditId, from.auditIds.at(-1) ?? auditId],
      lineage: from === undefined ? [] : [...from.lineage, from.auditIds[0] ?? auditId],
    };
    this.#tokens.set(digest(token), full);
    if (this.#tokens.size > MAX_TOKENS) {
      const oldest = this.#tokens.keys().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
    return { token, context: full };
  }

  /** What `token` speaks for; undefined when unknown, expired or revoked. */
  validate(token: string): AuthContext | undefined {
    const key = digest(token);
    const context = this.#tokens.get(key);
    if (context === undefined) return undefined;
    if (context.expiresAt.getTime() <= this.#clock.now()) {
      this.#tokens.delete(key);
      return undefined;
    }
    return context;
  }

  /** Revokes `token`; false when it was not valid. Tokens made from it go too, at any depth. */
  revoke(token: string): boolean {
    const key = digest(token);
    const context = this.validate(token);
    if (context === undefined) return false;
    const audit = context.auditIds[0];
    for (const [k, c] of this.#tokens)
      if (k === key || (audit !== undefined && c.lineage.includes(audit))) this.#tokens.delete(k);
    return true;
  }

  /** Tokens currently valid (for tests and status). */
  get size(): number {
    this.#purge();
    return this.#tokens.size;
  }

  #purge(): void {
    const now = this.#clock.now();
    for (const [k, c] of this.#tokens) if (c.expiresAt.getTime() <= now) this.#tokens.delete(k);
  }
}
