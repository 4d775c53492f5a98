/**
 * Turns a spec file into a ready {@link LogicalDatacenter}: providers built from their
 * declared kind and settings, the SQLite state store next to the file.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { isKumoError, ValidationError, type Issue, type Provider } from '../core/index.js';
import {
  LogicalDatacenter,
  loadSpecFile,
  memoryStore,
  providerIssuesAt,
  sqliteStore,
  type AgentSink,
  type SpecFile,
} from '../logical-dc/index.js';
import { optionError } from './output.js';
import { checkProviderSettings, PROVIDER_KINDS } from './provider-kinds.js';

/** Where `kumo apply -f FILE` notes FILE, relative to the working directory. */
export const REMEMBERED_SPEC = join('.kumo', 'spec');

/**
 * The spec file a command uses: `-f`, else `$KUMO_FILE`, else `kumo.yaml`, else the
 * file last applied from this directory (so `kumo apply -f examples/quickstart.yaml`
 * can be followed by a plain `kumo status`). When both `kumo.yaml` and a different
 * remembered file exist, it refuses to guess: a plain `kumo destroy --yes` must never
 * act on another datacenter than the one the user last applied.
 */
export function specPath(file: string | undefined): string {
  const chosen = file ?? process.env['KUMO_FILE'];
  if (chosen !== undefined && chosen !== '') return chosen;
  const remembered = rememberedSpec();
  if (existsSync('kumo.yaml')) {
    if (remembered !== undefined && resolve(remembered) !== resolve('kumo.yaml'))
      throw new ValidationError(
        `two spec files could be meant here: ./kumo.yaml and ${remembered} (the file last applied from this directory); give -f`,
        { issues: [{ path: '--file', message: 'ambiguous without -f' }] },
      );
    return 'kumo.yaml';
  }
  return remembered ?? 'kumo.yaml';
}

function rememberedSpec(): string | undefined {
  try {
    const noted = readFileSync(REMEMBERED_SPEC, 'utf8').trim();
    return noted !== '' && existsSync(noted) ? noted : undefined;
  } catch {
    return undefined;
  }
}

/** Notes `file` as this directory's spec file for later commands without `-f`. */
export function rememberSpec(file: string): void {
  const rel = relative(process.cwd(), resolve(file));
  const noted = rel !== '' && !isAbsolute(rel) ? rel : resolve(file);
  try {
    mkdirSync(dirname(REMEMBERED_SPEC), { recursive: true, mode: 0o700 });
    writeFileSync(REMEMBERED_SPEC, `${noted}\n`, { mode: 0o600 });
  } catch {
    // A directory we cannot write to only loses the default; the apply itself goes on.
  }
}

/**
 * Reads a spec file as every command does: its providers' settings checked against
 * their kinds with the rest of the file, so one run lists every problem.
 */
export function loadSpec(file: string): SpecFile {
  return loadSpecFile(file, { checkProvider: checkProviderSettings });
}

export interface LoadedDatacenter {
  readonly file: SpecFile;
  readonly dc: LogicalDatacenter;
}

/**
 * Builds every provider the file declares, as every `kumo` command does (a sim keeps
 * its cloud in `sim-<name>.json` beside the state database, so separate processes see
 * the same machines); a provider's own validation errors are placed at their line in
 * the file, all of them listed at once.
 *
 * @example
 * ```ts
 * const file = loadSpecFile('examples/burst.yaml');
 * const dc = new LogicalDatacenter({
 *   name: file.name,
 *   store: sqliteStore(file.statePath),
 *   providers: await buildProviders(file),
 * });
 * ```
 */
export async function buildProviders(file: SpecFile): Promise<Record<string, Provider>> {
  // Settings first, all providers at once (as `loadSpec` does for the CLI), so SDK
  // callers that read the file with plain `loadSpecFile` get the same problems.
  const issues: Issue[] = Object.entries(file.providers).flatMap(([name, decl]) =>
    providerIssuesAt(name, checkProviderSettings(decl.kind, decl.settings, name), file),
  );
  if (issues.length > 0) throw file.error(issues);
  const providers: Record<string, Provider> = {};
  const stateDir = dirname(file.statePath);
  for (const [name, decl] of Object.entries(file.providers)) {
    const kind = PROVIDER_KINDS[decl.kind]!;
    const settings: Record<string, unknown> = { ...decl.settings, name };
    for (const key of kind.pathSettings)
      if (typeof settings[key] === 'string')
        settings[key] = resolve(dirname(file.path), settings[key]);
    // The sim keeps its cloud beside the state, so separate commands see the same machines.
    if (decl.kind === 'sim' && settings['statePath'] === undefined)
      settings['statePath'] = join(stateDir, `sim-${name}.json`);
    try {
      const factory = await kind.load();
      providers[name] = factory(settings);
    } catch (err) {
      // What only a build can find (an unset passwordEnv, a cloud missing from
      // clouds.yaml) is placed in the file like the rest.
      if (!isKumoError(err) || !(err instanceof ValidationError)) throw err;
      const own = err.issues.length > 0 ? err.issues : [{ path: '(root)', message: err.message }];
      issues.push(...providerIssuesAt(name, own, file));
    }
  }
  if (issues.length > 0) throw file.error(issues);
  return providers;
}

/** Loads the spec file and builds its datacenter. `state` overrides the state path. */
export async function loadDatacenter(
  fileOption: string | undefined,
  options: {
    state?: string;
    agents?: AgentSink;
    /**
     * The command only reads (plan, status, machines): with no state database yet it
     * reads an empty one in memory rather than create the file (and tie it to this
     * spec's name) before anything was applied.
     */
    readOnly?: boolean;
  } = {},
): Promise<LoadedDatacenter> {
  const file = loadSpec(specPath(fileOption));
  const statePath = options.state !== undefined ? resolve(options.state) : file.statePath;
  if (existsSync(statePath) && statSync(statePath).isDirectory()) {
    const why = `${statePath} is a directory, not a state database file`;
    // The file's own `state:` is reported at its line, as every spec problem is.
    throw options.state !== undefined
      ? optionError(`--state-db ${options.state}`, '--state-db', why)
      : file.error([{ path: 'state', message: why }]);
  }
  const resolved: SpecFile = { ...file, statePath };
  const providers = await buildProviders(resolved);
  const fresh = options.readOnly === true && !stateExists(resolved);
  const dc = new LogicalDatacenter({
    name: file.name,
    store: fresh ? memoryStore({ location: statePath }) : sqliteStore(statePath),
    providers,
    ...(options.agents ? { agents: options.agents } : {}),
  });
  return { file: resolved, dc };
}

/** True when the state database exists (commands that only read say "nothing applied yet" otherwise). */
export function stateExists(file: SpecFile): boolean {
  return existsSync(file.statePath);
}
