/**
 * Users and projects, from the spec file's `gateway` section. Each user's password is
 * read once from the environment variable the spec names and kept only as a salted
 * scrypt hash. Everything lives in Keystone's `Default` domain.
 */
import { ValidationError, type Issue } from '../../core/index.js';
import type { GatewaySpec } from '../../logical-dc/gateway-spec.js';
import { stableHexId } from '../ids.js';
import { DEFAULT_SCRYPT, hashPassword, verifyPassword, type PasswordHash } from './passwords.js';
import type { Named } from './token-store.js';

export const DEFAULT_DOMAIN: Named = Object.freeze({ id: 'default', name: 'Default' });

export interface Project extends Named {
  readonly description: string;
  readonly domain: Named;
}

export interface User extends Named {
  readonly domain: Named;
  /** Project names the user may scope to. */
  readonly projects: ReadonlySet<string>;
  readonly roles: readonly Named[];
  readonly password: PasswordHash;
}

/** How a request names a user or project: by id, or by name within a domain (by id or name). */
export interface Reference {
  readonly id?: string | undefined;
  readonly name?: string | undefined;
  readonly domain?:
    { readonly id?: string | undefined; readonly name?: string | undefined } | undefined;
}

const inDefaultDomain = (domain: Reference['domain']): boolean =>
  domain === undefined ||
  domain.id === DEFAULT_DOMAIN.id ||
  domain.name === DEFAULT_DOMAIN.name ||
  (domain.id === undefined && domain.name === undefined);

export class Directory {
  readonly #users: ReadonlyMap<string, User>;
  readonly #projects: ReadonlyMap<string, Project>;
  /** Checked against for unknown users, so a wrong name costs as long as a wrong password. */
  readonly #decoy: PasswordHash;

  private constructor(users: readonly User[], projects: readonly Project[], decoy: PasswordHash) {
    this.#users = new Map(users.map((u) => [u.name, u]));
    this.#projects = new Map(projects.map((p) => [p.name, p]));
    this.#decoy = decoy;
  }

  /**
   * Hashes every user's password from `env`.
   * @throws ValidationError naming each user whose environment variable is unset or empty.
   */
  static async load(
    spec: GatewaySpec,
    env: Readonly<Record<string, string | undefined>>,
    scrypt: PasswordHash['params'] = DEFAULT_SCRYPT,
  ): Promise<Directory> {
    const issues: Issue[] = [];
    for (const [name, user] of Object.entries(spec.users))
      if ((env[user.passwordEnv] ?? '') === '')
        issues.push({
          path: `gateway.users.${name}.passwordEnv`,
          message: `environment variable ${user.passwordEnv} is not set (it holds user ${name}'s password)`,
        });
    if (issues.length > 0)
      throw new ValidationError(
        `gateway users without a password: ${issues.map((i) => i.message).join('; ')}`,
        { issues },
      );
    const projects: Project[] = Object.entries(spec.projects).map(([name, p]) => ({
      id: stableHexId('project', name),
      name,
      description: p.description,
      domain: DEFAULT_DOMAIN,
    }));
    const users = await Promise.all(
      Object.entries(spec.users).map(async ([name, u]): Promise<User> => ({
        id: stableHexId('user', name),
        name,
        domain: DEFAULT_DOMAIN,
        projects: new Set(u.projects),
        roles: u.roles.map((r) => ({ id: stableHexId('role', r), name: r })),
        password: await hashPassword(env[u.passwordEnv] ?? '', scrypt),
      })),
    );
    const decoy = await hashPassword(stableHexId('decoy', String(Date.now())), scrypt);
    return new Directory(users, projects, decoy);
  }

  get projects(): readonly Project[] {
    return [...this.#projects.values()];
  }

  findUser(ref: Reference): User | undefined {
    if (ref.id !== undefined) return [...this.#users.values()].find((u) => u.id === ref.id);
    if (ref.name === undefined || !inDefaultDomain(ref.domain)) return undefined;
    return this.#users.get(ref.name);
  }

  findProject(ref: Reference): Project | undefined {
    if (ref.id !== undefined) return [...this.#projects.values()].find((p) => p.id === ref.id);
    if (ref.name === undefined || !inDefaultDomain(ref.domain)) return undefined;
    return this.#projects.get(ref.name);
  }

  projectById(id: string): Project | undefined {
    return this.findProject({ id });
  }

  /** The user when `password` is theirs; undefined otherwise (unknown users take as long). */
  async authenticate(ref: Reference, password: string): Promise<User | undefined> {
    const user = this.findUser(ref);
    const ok = await verifyPassword(password, user?.password ?? this.#decoy);
    return ok && user !== undefined ? user : undefined;
  }
}
