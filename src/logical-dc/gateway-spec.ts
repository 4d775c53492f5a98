/**
 * The `gateway` section of a spec file: who may use the OpenStack-compatible gateway
 * (`kumo serve`) and how. Passwords are never written here: each user names the
 * environment variable that holds its password, and the gateway keeps only a salted
 * hash of it.
 *
 * @example
 * ```yaml
 * gateway:
 *   projects:
 *     demo: { description: Demo project }
 *   users:
 *     demo: { passwordEnv: KUMO_GATEWAY_DEMO_PASSWORD, projects: [demo] }
 * ```
 */
import { z } from 'zod';

/** Project and user names: they appear in pool names (`adhoc.<project>`) and tags. */
export const GatewayNameSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,40}$/,
    'names are 1–41 lowercase letters, digits and "-", starting with a letter',
  );

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export const GatewayUserSchema = z
  .object({
    /** Name of the environment variable holding the user's password (read once, at start). */
    passwordEnv: z
      .string({
        error: 'passwordEnv is required: the name of the environment variable holding the password',
      })
      .regex(
        ENV_NAME,
        'passwordEnv is an environment variable name such as KUMO_GATEWAY_DEMO_PASSWORD',
      ),
    /** Refused with a message saying what to do instead. */
    password: z
      .never({
        error:
          'passwords are never written in the spec file: set passwordEnv to the name of an environment variable that holds it',
      })
      .optional(),
    /** Projects the user may scope tokens to. */
    projects: z.array(GatewayNameSchema).min(1, 'a user needs at least one project'),
    /** Roles the user has in each of its projects (shown in tokens). Default `member`. */
    roles: z
      .array(z.enum(['member', 'reader', 'admin']))
      .min(1)
      .default(['member']),
  })
  .strict();
export type GatewayUser = z.output<typeof GatewayUserSchema>;

export const GatewayProjectSchema = z
  .object({
    description: z.string().max(255).default(''),
  })
  .strict();

export const GatewayLoginSchema = z
  .object({
    /** Failed logins of one user (or from one address, times four) allowed within the window. */
    maxFailures: z.number().int().min(1).max(1000).default(5),
    windowSeconds: z.number().int().min(1).max(86_400).default(60),
    /** How long further logins are refused once the limit is reached. */
    lockoutSeconds: z.number().int().min(1).max(86_400).default(60),
  })
  .strict();

export const GatewaySpecSchema = z
  .object({
    /** Region name in the service catalog. */
    region: z
      .string()
      .regex(/^[A-Za-z][A-Za-z0-9-]{0,63}$/, 'region is letters, digits and "-"')
      .default('RegionOne'),
    /** How long a token lives. Default one hour. */
    tokenTtlSeconds: z
      .number()
      .int()
      .min(1)
      .max(7 * 86_400)
      .default(3600),
    /** Where servers land when a request names no availability zone: `<provider>` or `<provider>:<zone>`. Default: the first provider. */
    defaultZone: z.string().min(1).optional(),
    login: GatewayLoginSchema.default({ maxFailures: 5, windowSeconds: 60, lockoutSeconds: 60 }),
    projects: z
      .record(GatewayNameSchema, GatewayProjectSchema)
      .refine((p) => Object.keys(p).length > 0, 'declare at least one project'),
    users: z
      .record(GatewayNameSchema, GatewayUserSchema)
      .refine((u) => Object.keys(u).length > 0, 'declare at least one user'),
  })
  .strict()
  .superRefine((gateway, ctx) => {
    for (const [name, user] of Object.entries(gateway.users))
      user.projects.forEach((project, i) => {
        if (gateway.projects[project] === undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['users', name, 'projects', i],
            message: `project "${project}" is not declared under gateway.projects`,
          });
      });
  });
export type GatewaySpec = z.output<typeof GatewaySpecSchema>;
export type GatewaySpecInput = z.input<typeof GatewaySpecSchema>;
