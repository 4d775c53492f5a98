/**
 * The spec file (`kumo.yaml`): a datacenter spec plus its name, its providers and where
 * its state lives. Every problem is reported at once, each with the file, line and
 * column, the field and the reason.
 *
 * Providers are declared by `kind` with their settings; this module does not know the
 * kinds (the CLI maps them to factories). It does refuse inline secrets: credentials
 * are given only by reference (an environment variable's name, an AWS profile, a
 * clouds.yaml cloud, a credentials file path), so neither the file nor the state
 * store ever holds one.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type Node,
} from 'yaml';
import { z } from 'zod';
import { NetworkSpecSchema, ValidationError, type Issue } from '../core/index.js';
import {
  checkDatacenter,
  DATACENTER_SHAPE,
  NameSchema,
  NetworkDeclSchema,
  type DatacenterSpec,
} from './spec.js';
import { GatewaySpecSchema, type GatewaySpec } from './gateway-spec.js';

/** A provider as declared: its kind and its kind-specific settings (validated by the kind's factory). */
export interface ProviderDecl {
  readonly kind: string;
  readonly settings: Readonly<Record<string, unknown>>;
}

// Key names that hold a secret when given inline. Matched on the key lowercased with
// "_" and "-" removed; a key ending in one of REFERENCE_SUFFIX names where the secret
// is (an env var, a file, a profile), which is what we want.
const SECRET_KEY =
  /(secret|password|passwd|passphrase|token|privatekey|apikey|accesskey|credential|sessionkey)/;
const REFERENCE_SUFFIX = /(env|file|path|profile|ref|name|url|var)$/;
const SECRET_VALUES: readonly [RegExp, string][] = [
  [/\b(AKIA|ASIA)[0-9A-Z]{16}\b/, 'looks like an AWS access key id'],
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----/, 'looks like a private key'],
];
const REFERENCE_HINT =
  'give credentials by reference instead: an environment variable name (e.g. secretAccessKeyEnv: AWS_SECRET_ACCESS_KEY), an AWS profile, a clouds.yaml cloud name or a credentials file path';

function findInlineSecrets(value: unknown, path: (string | number)[], ctx: z.RefinementCtx): void {
  if (Array.isArray(value)) {
    value.forEach((v, i) => findInlineSecrets(v, [...path, i], ctx));
    return;
  }
  if (typeof value === 'string') {
    for (const [re, why] of SECRET_VALUES)
      if (re.test(value))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `value ${why}: inline secrets are not allowed; ${REFERENCE_HINT}`,
        });
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  for (const [key, v] of Object.entries(value)) {
    const norm = key.toLowerCase().replace(/[-_]/g, '');
    const inline = typeof v === 'string' || typeof v === 'number';
    if (inline && SECRET_KEY.test(norm) && !REFERENCE_SUFFIX.test(norm))
      ctx.addIssue({
        code: 'custom',
        path: [...path, key],
        message: `"${key}" would hold a secret inline, which is not allowed in a spec file; ${REFERENCE_HINT}`,
      });
    else findInlineSecrets(v, [...path, key], ctx);
  }
}

const KindSchema = z
  .string()
  .regex(
    /^[a-z][a-z0-9-]{0,30}$/,
    'kind is a provider kind such as sim, aws, gcp, openstack, baremetal',
  );

const ProviderDeclSchema = z
  .object({ kind: KindSchema })
  .catchall(z.unknown())
  .superRefine((decl, ctx) => findInlineSecrets(decl, [], ctx));

/** The spec file's schema: the datacenter spec plus `name`, `providers` and `state`. */
export const SpecFileSchema = z
  .object({
    /** The datacenter's name; every machine is tagged with it (`kumo-dc`). */
    name: z
      .string({ error: 'name is required: the datacenter name every machine is tagged with' })
      .regex(
        /^[a-z][a-z0-9-]{0,40}$/,
        'name is 1–41 lowercase letters, digits and "-", starting with a letter',
      ),
    /** Path of the state database, relative to this file. Default `.kumo/state.db`. */
    state: z.string().min(1).optional(),
    providers: z.record(NameSchema, ProviderDeclSchema),
    /** The OpenStack-compatible gateway (`kumo serve`): projects and users. */
    gateway: GatewaySpecSchema.optional(),
    ...DATACENTER_SHAPE,
  })
  .strict()
  .superRefine((file, ctx) => {
    checkDatacenter(file, ctx);
    const known = Object.keys(file.providers);
    const check = (provider: string, path: (string | number)[]): void => {
      if (!known.includes(provider))
        ctx.addIssue({
          code: 'custom',
          path,
          message: `provider "${provider}" is not declared under providers (declared: ${known.join(', ') || 'none'})`,
        });
    };
    for (const [name, pool] of Object.entries(file.pools))
      check(pool.provider, ['pools', name, 'provider']);
    for (const [name, net] of Object.entries(file.networks))
      check(net.provider, ['networks', name, 'provider']);
    file.burst?.targets.forEach((t, i) => check(t.provider, ['burst', 'targets', i, 'provider']));
    file.burst?.basePools.forEach((pool, i) => {
      if (!Object.hasOwn(file.pools, pool))
        ctx.addIssue({
          code: 'custom',
          path: ['burst', 'basePools', i],
          message: `pool "${pool}" is not declared under pools`,
        });
    });
  });

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** Reference and containment checks on a file that failed its schema, for the parts that can be read. */
function referenceIssues(value: unknown): Issue[] {
  const root = asRecord(value);
  if (root === undefined) return [];
  const providers = Object.keys(asRecord(root['providers']) ?? {});
  const networks = asRecord(root['networks']) ?? {};
  const out: Issue[] = [];
  const provider = (p: unknown, path: string): void => {
    if (typeof p === 'string' && !providers.includes(p))
      out.push({
        path,
        message: `provider "${p}" is not declared under providers (declared: ${providers.join(', ') || 'none'})`,
      });
  };
  for (const [name, raw] of Object.entries(networks)) {
    const net = asRecord(raw);
    provider(net?.['provider'], `networks.${name}.provider`);
    const decl = NetworkDeclSchema.safeParse(raw);
    if (!decl.success) continue;
    const { provider: _provider, ...rest } = decl.data;
    const checked = NetworkSpecSchema.safeParse({ name, ...rest });
    if (!checked.success)
      for (const issue of checked.error.issues)
        if (issue.code === 'custom')
          out.push({
            path: ['networks', name, ...issue.path.map(String)].join('.'),
            message: issue.message,
          });
  }
  for (const [name, raw] of Object.entries(asRecord(root['pools']) ?? {})) {
    const pool = asRecord(raw);
    provider(pool?.['provider'], `pools.${name}.provider`);
    const machine = asRecord(pool?.['machine']);
    const [network, path] =
      typeof pool?.['network'] === 'string'
        ? [pool['network'], `pools.${name}.network`]
        : [machine?.['network'], `pools.${name}.machine.network`];
    if (typeof network !== 'string') continue;
    const decl = asRecord(networks[network]);
    if (decl === undefined)
      out.push({ path, message: `network "${network}" is not declared under networks` });
    else if (typeof decl['provider'] === 'string' && decl['provider'] !== pool?.['provider'])
      out.push({
        path,
        message: `network "${network}" is on provider "${decl['provider']}", the pool on "${String(pool?.['provider'])}"`,
      });
  }
  return out;
}

/** A problem with one provider's settings, its path relative to the provider. */
export interface ProviderIssue {
  readonly path: string;
  readonly message: string;
  /** Point at the key itself (an unknown setting), not its value. */
  readonly atKey?: boolean;
}

/** How a spec file is read. */
export interface SpecFileOptions {
  /**
   * Checks one provider's settings (`name` is the provider's name in the file); its
   * problems are listed with the file's own, at their lines, so one run shows them
   * all. The CLI passes the provider kinds' settings schemas.
   */
  readonly checkProvider?: (
    kind: string,
    settings: Readonly<Record<string, unknown>>,
    name: string,
  ) => readonly ProviderIssue[];
}

/** A loaded spec file. */
export interface SpecFile {
  /** Absolute path of the file. */
  readonly path: string;
  readonly name: string;
  /** Absolute path of the state database. */
  readonly statePath: string;
  readonly providers: Readonly<Record<string, ProviderDecl>>;
  readonly spec: DatacenterSpec;
  /** The `gateway` section, when the file has one. */
  readonly gateway?: GatewaySpec;
  /** Line and column (1-based) of a dotted field path, for errors found later (provider settings). */
  locate(path: string, key?: boolean): { line: number; column: number } | undefined;
  /** A ValidationError whose message lists each issue as `file:line:col field: reason`. */
  error(issues: readonly Issue[]): ValidationError;
}

/** Finds the node a path points at; when the last key is missing, the nearest parent's key. */
function locateNode(doc: Document, path: readonly string[], key = false): Node | undefined {
  let node: unknown = doc.contents;
  let lastKey: Node | undefined;
  for (const [index, seg] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === seg,
      );
      if (pair === undefined) return lastKey ?? node;
      lastKey = isScalar(pair.key) ? pair.key : lastKey;
      node = key && index === path.length - 1 ? pair.key : (pair.value ?? pair.key);
    } else if (isSeq(node)) {
      const item: unknown = node.items[Number(seg)];
      if (item === undefined) return node;
      node = item;
    } else break;
  }
  return (node as Node | null | undefined) ?? lastKey;
}

function relativeName(path: string): string {
  const rel = relative(process.cwd(), path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path;
}

/** Spec files are small; these bounds keep hostile input from exhausting the parser. */
const MAX_BYTES = 4 * 1024 * 1024;
const MAX_FLOW_DEPTH = 100;
const MAX_BLOCK_DEPTH = 400;
const MAX_LISTED_ISSUES = 50;

/**
 * Refuses input nested deeper than any spec needs, before the YAML parser sees it: the
 * parser recurses per level, and very deep input exhausts the stack (and, repeated, can
 * take the whole process down inside V8's regexp compiler).
 */
function nestingProblem(
  text: string,
): { message: string; line: number; column: number } | undefined {
  if (text.length > MAX_BYTES)
    return { message: `the file is larger than ${MAX_BYTES} bytes`, line: 1, column: 1 };
  let depth = 0;
  let line = 1;
  let column = 0;
  let quote: string | undefined;
  let comment = false;
  let lineStart = true;
  let indent = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    column++;
    if (ch === '\n') {
      line++;
      column = 0;
      comment = false;
      lineStart = true;
      indent = 0;
      continue;
    }
    if (comment) continue;
    if (quote !== undefined) {
      if (ch === '\\' && quote === '"') i++;
      else if (ch === quote) quote = undefined;
      continue;
    }
    if (lineStart) {
      // Indentation and the "- " / "? " / ": " indicators that open a level each.
      if (ch === ' ') indent++;
      else if ((ch === '-' || ch === '?' || ch === ':') && text[i + 1] === ' ') indent += 2;
      else lineStart = false;
      if (indent > MAX_BLOCK_DEPTH)
        return {
          message: `indented or nested deeper than ${MAX_BLOCK_DEPTH} columns`,
          line,
          column,
        };
      if (lineStart) continue;
    }
    if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) comment = true;
    else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === '[' || ch === '{') {
      depth++;
      if (depth > MAX_FLOW_DEPTH)
        return {
          message: `nested deeper than ${MAX_FLOW_DEPTH} levels of [ ] and { }`,
          line,
          column,
        };
    } else if ((ch === ']' || ch === '}') && depth > 0) depth--;
  }
  return undefined;
}

/**
 * Parses a spec file's text. `file` names it in errors and anchors relative paths.
 *
 * @example
 * ```ts
 * const file = parseSpecText(readFileSync('kumo.yaml', 'utf8'), 'kumo.yaml');
 * console.log(file.name, Object.keys(file.spec.pools));
 * ```
 * @throws ValidationError listing every problem, each with `line` and `column`.
 */
export function parseSpecText(text: string, file: string, options: SpecFileOptions = {}): SpecFile {
  const path = resolve(file);
  const shown = relativeName(path);
  const tooDeep = nestingProblem(text);
  if (tooDeep !== undefined)
    throw new ValidationError(
      `${shown}:${tooDeep.line}:${tooDeep.column} ${tooDeep.message}; a spec file never needs that`,
      {
        issues: [{ path: '(syntax)', ...tooDeep }],
      },
    );
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  const at = (offset: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const locate = (dotted: string, key = false): { line: number; column: number } | undefined => {
    const node = locateNode(doc, dotted === '(root)' ? [] : dotted.split('.'), key);
    return node?.range ? at(node.range[0]) : undefined;
  };
  const error = (issues: readonly Issue[]): ValidationError => {
    // The same problem can be found twice (a field check and a cross-section check): list it once.
    const unique = [...new Map(issues.map((i) => [`${i.path}\u0000${i.message}`, i])).values()];
    // In file order, so the list reads like the file (provider settings are checked apart).
    const placed = unique
      .map((i) =>
        i.line !== undefined ? i : { ...i, ...(locate(i.path) ?? { line: 1, column: 1 }) },
      )
      .sort((a, b) => (a.line ?? 1) - (b.line ?? 1) || (a.column ?? 1) - (b.column ?? 1));
    const lines = placed
      .slice(0, MAX_LISTED_ISSUES)
      .map((i) => `  ${shown}:${i.line}:${i.column} ${i.path}: ${i.message}`);
    const n = placed.length;
    if (n > MAX_LISTED_ISSUES) lines.push(`  … and ${n - MAX_LISTED_ISSUES} more`);
    return new ValidationError(
      `${shown} has ${n} problem${n === 1 ? '' : 's'}:\n${lines.join('\n')}`,
      { issues: placed, details: { file: shown } },
    );
  };

  if (doc.errors.length > 0) {
    throw error(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0];
        return {
          path: '(syntax)',
          message: e.message.split('\n')[0] ?? e.message,
          line: pos?.line ?? 1,
          column: pos?.col ?? 1,
        };
      }),
    );
  }
  let value: unknown;
  try {
    // A small alias budget refuses "billion laughs" documents.
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw error([
      {
        path: '(syntax)',
        message: err instanceof Error ? err.message : String(err),
        line: 1,
        column: 1,
      },
    ]);
  }
  if (value === null || value === undefined)
    throw error([
      {
        path: '(root)',
        message: 'the spec file is empty; it needs at least name and providers',
        line: 1,
        column: 1,
      },
    ]);

  const providerIssues = checkProviders(value, options, locate);
  const parsed = SpecFileSchema.safeParse(value);
  if (!parsed.success) {
    const issues: Issue[] = [];
    for (const issue of parsed.error.issues) {
      const base = issue.path.map(String);
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          const path = [...base, key].join('.');
          issues.push({ path, message: `unknown field "${key}"`, ...(locate(path, true) ?? {}) });
        }
      } else issues.push({ path: base.join('.') || '(root)', message: issue.message });
    }
    // Checks across sections run only on valid input in zod; run them on what is readable, so
    // every problem is listed in one go.
    const seen = new Set(issues.map((i) => `${i.path}\u0000${i.message}`));
    for (const i of referenceIssues(value))
      if (!seen.has(`${i.path}\u0000${i.message}`)) issues.push(i);
    // A field the file's own rules refuse (an inline secret) is not also an unknown setting.
    const refused = new Set(issues.map((i) => i.path));
    throw error([
      ...issues,
      ...providerIssues.filter(
        (i) => !(refused.has(i.path) && i.message.startsWith('unknown setting')),
      ),
    ]);
  }
  if (providerIssues.length > 0) throw error(providerIssues);
  const { name, state, providers, pools, networks, labels, burst, gateway } = parsed.data;
  const dir = dirname(path);
  return {
    path,
    name,
    statePath: resolve(dir, state ?? join('.kumo', 'state.db')),
    providers: Object.fromEntries(
      Object.entries(providers).map(([n, { kind, ...settings }]) => [n, { kind, settings }]),
    ),
    spec: { pools, networks, labels, ...(burst === undefined ? {} : { burst }) },
    ...(gateway === undefined ? {} : { gateway }),
    locate,
    error,
  };
}

/** The `checkProvider` problems of every provider declared with a kind, placed in the file. */
function checkProviders(
  value: unknown,
  options: SpecFileOptions,
  locate: (dotted: string, key?: boolean) => { line: number; column: number } | undefined,
): Issue[] {
  const providers = (value as { providers?: unknown }).providers;
  if (options.checkProvider === undefined || !isRecord(providers)) return [];
  const issues: Issue[] = [];
  for (const [name, decl] of Object.entries(providers)) {
    // A malformed kind is the schema's to report; there is no kind to check against.
    if (!isRecord(decl) || !KindSchema.safeParse(decl['kind']).success) continue;
    const { kind, ...settings } = decl;
    issues.push(
      ...providerIssuesAt(name, options.checkProvider(kind as string, settings, name), { locate }),
    );
  }
  return issues;
}

/**
 * Provider `name`'s problems as the file's: at `providers.<name>.<path>`, an unknown
 * setting at its key.
 *
 * @example
 * ```ts
 * throw file.error(providerIssuesAt('cloud', [{ path: 'regoin', message: 'unknown', atKey: true }], file));
 * ```
 */
export function providerIssuesAt(
  name: string,
  issues: readonly ProviderIssue[],
  file: Pick<SpecFile, 'locate'>,
): Issue[] {
  return issues.map((i) => {
    const path = i.path === '(root)' ? `providers.${name}` : `providers.${name}.${i.path}`;
    return { path, message: i.message, ...(i.atKey === true ? file.locate(path, true) : {}) };
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reads and parses a spec file.
 * @throws ValidationError when it cannot be read or is invalid.
 */
export function loadSpecFile(file: string, options: SpecFileOptions = {}): SpecFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`;
    throw new ValidationError(
      `spec file ${file} ${why}; give one with -f (see examples/quickstart.yaml)`,
      { issues: [{ path: '-f', message: `spec file ${why}` }] },
    );
  }
  return parseSpecText(text, file, options);
}
