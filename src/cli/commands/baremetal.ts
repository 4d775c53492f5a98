import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { parse, ValidationError } from '../../core/index.js';
import { BaremetalOptionsSchema } from '../../providers/baremetal/baremetal-config.js';
import {
  enrollNodes,
  parseEnrollFile,
  type EnrollEvent,
} from '../../providers/baremetal/baremetal-enroll.js';
import { ironicClientFor } from '../../providers/baremetal/index.js';
import { EXIT, printJson, table } from '../output.js';
import { loadSpec } from '../spec-loader.js';

interface EnrollOptions {
  endpoint?: string;
  username?: string;
  microversion?: string;
  file?: string;
  provider?: string;
  timeout: string;
  concurrency: string;
  json?: boolean;
}

/** Provider options from `-f spec -p name`, else from --endpoint (or OS_ENDPOINT) and basic auth. */
function providerSettings(opts: EnrollOptions): Record<string, unknown> {
  if (opts.file !== undefined) {
    const name = opts.provider ?? 'baremetal';
    const decl = loadSpec(opts.file).providers[name];
    if (decl === undefined || decl.kind !== 'baremetal')
      throw new ValidationError(`${opts.file} declares no baremetal provider "${name}"`, {
        issues: [{ path: '--provider', message: 'not a baremetal provider of the spec file' }],
      });
    return { ...decl.settings, name };
  }
  const endpoint = opts.endpoint ?? process.env['OS_ENDPOINT'];
  if (endpoint === undefined)
    throw new ValidationError(
      'give --endpoint (or OS_ENDPOINT), or -f kumo.yaml -p <baremetal provider>',
      {
        issues: [{ path: '--endpoint', message: 'required without a spec file' }],
      },
    );
  const password = process.env['KUMO_IRONIC_PASSWORD'];
  if (opts.username !== undefined && password === undefined)
    throw new ValidationError(
      '--username needs the password in KUMO_IRONIC_PASSWORD (never on the command line)',
      {
        issues: [{ path: '--username', message: 'KUMO_IRONIC_PASSWORD is not set' }],
      },
    );
  return {
    endpoint,
    ...(opts.username === undefined
      ? {}
      : { auth: { type: 'basic', username: opts.username, password } }),
    ...(opts.microversion === undefined ? {} : { microversion: opts.microversion }),
  };
}

function progressLine(e: EnrollEvent): string {
  return `${e.node.padEnd(24)} ${e.step.padEnd(10)}${e.detail === undefined ? '' : ` ${e.detail}`}\n`;
}

/** `kumo baremetal enroll nodes.yaml`: nodes into Ironic and through to available. */
export function registerBaremetal(program: Command): void {
  const group = program
    .command('baremetal')
    .description('operate the bare-metal (OpenStack Ironic) pool');
  group
    .command('enroll <nodes-file>')
    .description(
      'enroll the nodes of a YAML file in Ironic (driver, BMC details, properties, ports, traits) and take them through manage and provide to available; idempotent by node name',
    )
    .option('--endpoint <url>', 'Ironic root URL (default $OS_ENDPOINT), for noauth or basic auth')
    .option(
      '--username <name>',
      'HTTP basic auth user; the password comes from $KUMO_IRONIC_PASSWORD',
    )
    .option('--microversion <1.N>', 'speak this API microversion')
    .option('-f, --file <spec>', 'take the connection from this spec file’s baremetal provider')
    .option('-p, --provider <name>', 'that provider’s name in the spec file', 'baremetal')
    .option('--timeout <seconds>', 'longest wait for one node to reach available', '1800')
    .option('--concurrency <n>', 'nodes worked on at once', '8')
    .option('--json', 'progress as JSON lines on stderr, results as JSON on stdout')
    .action(async (nodesFile: string, opts: EnrollOptions) => {
      const timeoutS = Number(opts.timeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0)
        throw new ValidationError(`--timeout ${opts.timeout}: give seconds, more than 0`, {
          issues: [{ path: '--timeout', message: 'a positive number of seconds' }],
        });
      const concurrency = Number(opts.concurrency);
      if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256)
        throw new ValidationError(
          `--concurrency ${opts.concurrency}: give a whole number from 1 to 256`,
          {
            issues: [{ path: '--concurrency', message: 'a whole number from 1 to 256' }],
          },
        );
      let text: string;
      try {
        text = readFileSync(nodesFile, 'utf8');
      } catch (error) {
        throw new ValidationError(
          `cannot read ${nodesFile}: ${error instanceof Error ? error.message : String(error)}`,
          {
            issues: [{ path: 'nodes-file', message: 'unreadable' }],
          },
        );
      }
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch (error) {
        throw new ValidationError(
          `${nodesFile} is not YAML: ${error instanceof Error ? error.message : String(error)}`,
          {
            issues: [{ path: 'nodes-file', message: 'not YAML' }],
          },
        );
      }
      const nodes = parseEnrollFile(doc);
      const config = parse(BaremetalOptionsSchema, providerSettings(opts), 'baremetal options');
      const ironic = ironicClientFor(config);
      const results = await enrollNodes(ironic, nodes, {
        provider: config.name,
        timeoutMs: timeoutS * 1000,
        concurrency,
        onEvent: (e) => {
          if (opts.json) process.stderr.write(`${JSON.stringify(e)}\n`);
          else process.stdout.write(progressLine(e));
        },
      });
      const failed = results.filter((r) => r.error !== undefined);
      if (opts.json) printJson(results);
      else {
        process.stdout.write(
          `\n${table(
            ['NODE', 'UUID', 'STATE', 'POWER', 'CHANGES', 'ERROR'],
            results.map((r) => [
              r.name,
              r.uuid,
              r.state,
              r.powerState ?? undefined,
              r.changes.length === 0 ? 'none' : r.changes.join(', '),
              r.error,
            ]),
          )}\n`,
        );
        for (const r of results)
          for (const w of r.warnings) process.stdout.write(`warning: ${r.name}: ${w}\n`);
        process.stdout.write(
          `${results.length - failed.length} of ${results.length} node(s) ready${failed.length ? `, ${failed.length} failed` : ''}\n`,
        );
      }
      if (failed.length > 0) process.exitCode = EXIT.failed;
    });
}
