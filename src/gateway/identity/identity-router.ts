/**
 * Keystone v3, the subset OpenStack clients need to log in: version discovery, password
 * and token authentication scoped to a project, token validation and revocation, and
 * the catalog. Shapes follow keystone/api/discovery.py and keystone/common/render_token.py.
 */
import { z } from 'zod';
import { HttpError, badRequest, forbidden, notFound, unauthorized } from '../http/errors.js';
import { parseBody, Router, type GatewayRequest, type GatewayResponse } from '../http/router.js';
import type { GatewayContext } from '../context.js';
import { serviceCatalog } from './catalog.js';
import type { Reference } from './directory.js';
import type { AuthContext } from './token-store.js';

const RefSchema = z
  .object({
    id: z.string().min(1).max(255).optional(),
    name: z.string().min(1).max(255).optional(),
    domain: z
      .object({ id: z.string().max(255).optional(), name: z.string().max(255).optional() })
      .loose()
      .optional(),
  })
  .loose();

const AuthBodySchema = z.object({
  auth: z.object({
    identity: z.object({
      methods: z.array(z.string()).min(1, 'give at least one method'),
      password: z.object({ user: RefSchema.extend({ password: z.string().max(4096) }) }).optional(),
      token: z.object({ id: z.string().min(1).max(4096) }).optional(),
    }),
    scope: z
      .union([
        z.literal('unscoped'),
        z
          .object({
            project: RefSchema.optional(),
            domain: RefSchema.optional(),
            system: z.unknown().optional(),
          })
          .loose(),
      ])
      .optional(),
  }),
});

/** Keystone's version document: `v3.14`, as Zed's Keystone says. */
function versionEntry(ctx: GatewayContext): Record<string, unknown> {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${ctx.baseUrl()}/v3/` }],
    'media-types': [
      { base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' },
    ],
  };
}

/** Keystone's timestamp format: microseconds and `Z`. */
export function keystoneTime(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The body Keystone answers token creation and validation with. */
export function tokenBody(
  ctx: GatewayContext,
  auth: AuthContext,
  withCatalog: boolean,
): Record<string, unknown> {
  const token: Record<string, unknown> = {
    methods: auth.methods,
    user: {
      domain: auth.user.domain,
      id: auth.user.id,
      name: auth.user.name,
      password_expires_at: null,
    },
    audit_ids: auth.auditIds,
    expires_at: keystoneTime(auth.expiresAt),
    issued_at: keystoneTime(auth.issuedAt),
  };
  if (auth.project !== undefined) {
    token['project'] = {
      domain: auth.project.domain,
      id: auth.project.id,
      name: auth.project.name,
    };
    token['is_domain'] = false;
    token['roles'] = auth.roles;
    if (withCatalog) token['catalog'] = serviceCatalog(ctx.baseUrl(), ctx.region);
  }
  return { token };
}

const wwwAuthenticate = (ctx: GatewayContext): Record<string, string> => ({
  'WWW-Authenticate': `Keystone uri="${ctx.baseUrl()}/v3"`,
});

async function authenticate(ctx: GatewayContext, req: GatewayRequest): Promise<GatewayResponse> {
  const body = parseBody(req, AuthBodySchema).auth;
  const denied = (message?: string): HttpError =>
    new HttpError(401, message ?? 'The request you have made requires authentication.', {
      headers: wwwAuthenticate(ctx),
    });
  const { methods } = body.identity;
  let user: AuthContext['user'];
  let from: AuthContext | undefined;
  let projects: ReadonlySet<string>;
  let roles: AuthContext['roles'];
  if (methods.includes('password')) {
    const given = body.identity.password?.user;
    if (given === undefined)
      throw badRequest(
        'Invalid input for field identity/password/user: the password method needs a user.',
      );
    if (given.id === undefined && given.name === undefined)
      throw badRequest(
        'Invalid input for field identity/password/user: give the user id, or its name and domain.',
      );
    // Failures count against the user the login resolves to (found by id first, as the
    // directory does), so varying the other field cannot reset the count.
    const who = ctx.directory.findUser(given)?.id ?? (given.id ?? given.name ?? '').toLowerCase();
    const wait = ctx.throttle.retryAfterMs(who, req.remoteAddress);
    if (wait > 0) {
      const seconds = Math.ceil(wait / 1000);
      throw new HttpError(429, `Too many failed logins; try again in ${seconds} seconds.`, {
        headers: { 'Retry-After': String(seconds) },
      });
    }
    const found = await ctx.directory.authenticate(given satisfies Reference, given.password);
    if (found === undefined) {
      ctx.throttle.failed(who, req.remoteAddress);
      ctx.log(`login failed for user ${JSON.stringify(who)} from ${req.remoteAddress}`);
      throw denied();
    }
    ctx.throttle.succeeded(who);
    user = { id: found.id, name: found.name, domain: found.domain };
    projects = found.projects;
    roles = found.roles;
  } else if (methods.includes('token')) {
    const id = body.identity.token?.id;
    if (id === undefined)
      throw badRequest(
        'Invalid input for field identity/token: the token method needs a token id.',
      );
    from = ctx.tokens.validate(id);
    if (from === undefined) throw denied();
    const found = ctx.directory.findUser({ id: from.user.id });
    if (found === undefined) throw denied();
    user = from.user;
    projects = found.projects;
    roles = found.roles;
  } else {
    throw denied(
      `Attempted to authenticate with an unsupported method (${methods.join(', ')}); use password or token.`,
    );
  }

  const scope = body.scope;
  let project: AuthContext['project'];
  if (scope !== undefined && scope !== 'unscoped') {
    if (scope.domain !== undefined || scope.system !== undefined)
      throw denied(
        'Only project-scoped and unscoped tokens are offered; scope the token to a project.',
      );
    if (scope.project !== undefined) {
      const found = ctx.directory.findProject(scope.project);
      if (found === undefined || !projects.has(found.name))
        throw denied(
          `User ${user.id} has no access to project ${scope.project.id ?? scope.project.name ?? ''}`,
        );
      project = { id: found.id, name: found.name, domain: found.domain };
    }
  } else if (from?.project !== undefined) project = from.project;

  const issued = ctx.tokens.issue(
    {
      user,
      project,
      roles: project === undefined ? [] : roles,
      methods:
        from === undefined ? ['password'] : ['token', ...from.methods.filter((m) => m !== 'token')],
    },
    ctx.tokenTtlMs,
    from,
  );
  return {
    status: 201,
    headers: { 'X-Subject-Token': issued.token },
    body: tokenBody(ctx, issued.context, req.query.get('nocatalog') === null),
  };
}

/** The token named by X-Subject-Token, if the caller may see it (its own, or the caller is admin). */
function subject(
  ctx: GatewayContext,
  req: GatewayRequest,
): { token: string; context: AuthContext } {
  const caller = req.auth;
  if (caller === undefined) throw unauthorized();
  const header = req.headers['x-subject-token'];
  const token = Array.isArray(header) ? header[0] : header;
  if (token === undefined || token === '')
    throw badRequest('X-Subject-Token is required: the token to act on.');
  const context = ctx.tokens.validate(token);
  if (context === undefined) throw notFound(`Could not find token: ${token.slice(0, 8)}…`);
  if (context.user.id !== caller.user.id && !caller.roles.some((r) => r.name === 'admin'))
    throw forbidden(
      'You are not authorized to perform the requested action: identity:validate_token.',
    );
  return { token, context };
}

/** Routes below the gateway's root: `/`, `/v3`, `/v3/auth/…`. */
export function identityRouter(ctx: GatewayContext): Router {
  const versions = (): GatewayResponse => ({
    status: 300,
    headers: { Location: `${ctx.baseUrl()}/v3/` },
    body: { versions: { values: [versionEntry(ctx)] } },
  });
  const version = (): GatewayResponse => ({ status: 200, body: { version: versionEntry(ctx) } });
  return new Router()
    .add('GET', '/', versions, { public: true })
    .add('GET', '/v3', version, { public: true })
    .add('POST', '/v3/auth/tokens', (req) => authenticate(ctx, req), { public: true })
    .add('GET', '/v3/auth/tokens', (req) => {
      const { context } = subject(ctx, req);
      return {
        status: 200,
        headers: { 'X-Subject-Token': String(req.headers['x-subject-token']) },
        body: tokenBody(ctx, context, req.query.get('nocatalog') === null),
      };
    })
    .add('HEAD', '/v3/auth/tokens', (req) => {
      subject(ctx, req);
      return {
        status: 200,
        headers: { 'X-Subject-Token': String(req.headers['x-subject-token']) },
      };
    })
    .add('DELETE', '/v3/auth/tokens', (req) => {
      const { token, context } = subject(ctx, req);
      ctx.tokens.revoke(token);
      ctx.log(`token of user ${context.user.name} revoked`);
      return { status: 204 };
    })
    .add('GET', '/v3/auth/catalog', (req) => {
      if (req.auth?.project === undefined)
        throw forbidden('A project-scoped token is required to read the catalog.');
      return {
        status: 200,
        body: {
          catalog: serviceCatalog(ctx.baseUrl(), ctx.region),
          links: { self: `${ctx.baseUrl()}/v3/auth/catalog`, previous: null, next: null },
        },
      };
    })
    .add('GET', '/v3/auth/projects', (req) => {
      const user = ctx.directory.findUser({ id: req.auth?.user.id });
      const projects = ctx.directory.projects.filter((p) => user?.projects.has(p.name) === true);
      return {
        status: 200,
        body: {
          projects: projects.map((p) => ({
            id: p.id,
            name: p.name,
            description: p.description,
            domain_id: p.domain.id,
            enabled: true,
            is_domain: false,
            parent_id: p.domain.id,
            links: { self: `${ctx.baseUrl()}/v3/projects/${p.id}` },
          })),
          links: { self: `${ctx.baseUrl()}/v3/auth/projects`, previous: null, next: null },
        },
      };
    });
}
