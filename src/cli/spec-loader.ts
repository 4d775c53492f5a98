/**
 * Turns a spec file into a ready {@link LogicalDatacenter}: providers built from their
 * declared kind and settings, the SQLite state store next to the file.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { ValidationError } from '../core/index.js';
import {
  LogicalDatacenter,
  loadSpecFile,
  memoryStore,
  sqliteStore,
  type AgentSink,
  type SpecFile,
} from '../logical-dc/index.js';
import { optionError } from './output.js';
import { buildProviders, checkProviderSettings } from '../spec-providers.js';

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
