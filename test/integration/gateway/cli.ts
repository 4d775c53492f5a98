/**
 * Runs `kumo serve` as a child process and the real `openstack` CLI against it. The
 * CLI runs with PATH=/usr/sbin:/usr/bin:/sbin:/bin: the `python3` first on a developer's
 * PATH may be a pyenv shim without Debian's OpenStack libraries.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Json } from '../../gateway/harness.js';

export const OPENSTACK = '/usr/bin/openstack';
const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
const ROOT = resolve(import.meta.dirname, '../../..');

export interface Served {
  readonly url: string;
  readonly process: ChildProcess;
  /** What the gateway logged on stderr so far. */
  log(): string;
  /** Sends SIGTERM and resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Starts `kumo serve -f <spec> --listen 127.0.0.1:0` and waits for its URL. */
export async function serve(
  spec: string,
  env: Record<string, string>,
  extra: string[] = [],
): Promise<Served> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      resolve(ROOT, 'src/cli.ts'),
      'serve',
      '-f',
      spec,
      '--listen',
      '127.0.0.1:0',
      ...extra,
    ],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`kumo serve did not start in 90 s:\n${stdout}\n${stderr}`)),
      90_000,
    );
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(stdout);
      if (m !== null) {
        clearTimeout(timer);
        resolveUrl(m[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`kumo serve exited with ${code}:\n${stdout}\n${stderr}`));
    });
  });
  return {
    url,
    process: child,
    log: () => stderr,
    stop: () =>
      new Promise((done) => {
        if (child.exitCode !== null) return done(child.exitCode);
        child.once('exit', (code) => done(code));
        child.kill('SIGTERM');
      }),
  };
}

export interface Cli {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment an OpenStack user sets (OS_AUTH_URL, OS_USERNAME, …). */
export function osEnv(
  url: string,
  user: string,
  password: string,
  project: string,
): Record<string, string> {
  return {
    OS_AUTH_URL: `${url}/v3`,
    OS_USERNAME: user,
    OS_PASSWORD: password,
    OS_PROJECT_NAME: project,
    OS_USER_DOMAIN_NAME: 'Default',
    OS_PROJECT_DOMAIN_NAME: 'Default',
    OS_IDENTITY_API_VERSION: '3',
  };
}

/** Runs `openstack …args` with exactly `env` (plus a system PATH and a private HOME). */
export function openstack(
  env: Record<string, string>,
  home: string,
  ...args: string[]
): Promise<Cli> {
  if (!existsSync(OPENSTACK))
    throw new Error(
      `${OPENSTACK} not found: install python3-openstackclient (apt-get install -y python3-openstackclient), as .ci/run does`,
    );
  return new Promise((done) => {
    execFile(
      OPENSTACK,
      args,
      { env: { PATH: SYSTEM_PATH, HOME: home, LANG: 'C.UTF-8', ...env }, timeout: 240_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
        done({ code, stdout, stderr });
      },
    );
  });
}

/** Parses the JSON `openstack … -f json` printed (after any progress lines). */
export function json(result: Cli): Json {
  if (result.code !== 0)
    throw new Error(`openstack failed (${result.code}): ${result.stderr || result.stdout}`);
  const start = result.stdout.search(/[[{]/);
  return JSON.parse(result.stdout.slice(start));
}
