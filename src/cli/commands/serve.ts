import { dirname, join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ValidationError } from '../../core/index.js';
import { createGateway } from '../../gateway/index.js';
import { addDcOptions, positiveInt, type DcOptions } from '../dc-command.js';
import { loadDatacenter } from '../spec-loader.js';

interface ServeFlags extends DcOptions {
  listen: { host: string; port: number };
  tokenTtl?: number;
  publicUrl?: string;
  quiet?: boolean;
}

/** `127.0.0.1:5000`, `[::1]:5000`, `localhost:0` or a bare port. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value) ?? /^()()(\d{1,5})$/.exec(value);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535)
    throw new InvalidArgumentError(
      'give host:port, such as 127.0.0.1:5000 (port 0 picks a free one)',
    );
  return { host: m[1] || m[2] || '127.0.0.1', port };
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function registerServe(program: Command): void {
  addDcOptions(program.command('serve'))
    .description(
      'serve the OpenStack-compatible gateway (Keystone, Nova, Neutron, Glance) over the datacenter',
    )
    .addOption(
      new Option('--listen <host:port>', 'address to listen on')
        .argParser(parseListen)
        // Shown as typed, not as the parsed object.
        .default({ host: '127.0.0.1', port: 5000 }, '127.0.0.1:5000'),
    )
    .option(
      '--token-ttl <seconds>',
      'token lifetime (default: gateway.tokenTtlSeconds, else 3600)',
      positiveInt,
    )
    .option('--public-url <url>', 'URL clients reach the gateway at, when behind a proxy')
    .option('-q, --quiet', 'do not log each request on stderr')
    .action(async (opts: ServeFlags) => {
      const { file, dc } = await loadDatacenter(
        opts.file,
        opts.stateDb ? { state: opts.stateDb } : {},
      );
      if (file.gateway === undefined)
        throw new ValidationError(
          `${file.path} has no gateway section: declare gateway.projects and gateway.users (see examples/gateway.yaml)`,
          {
            issues: [{ path: 'gateway', message: 'required by kumo serve' }],
          },
        );
      const log =
        opts.quiet === true
          ? undefined
          : (line: string): void =>
              void process.stderr.write(`${new Date().toISOString()} ${line}\n`);
      const gateway = await createGateway({
        dc,
        spec: file.gateway,
        statePath: join(dirname(file.statePath), 'gateway.json'),
        ...(opts.tokenTtl === undefined ? {} : { tokenTtlSeconds: opts.tokenTtl }),
        ...(opts.publicUrl === undefined ? {} : { publicUrl: opts.publicUrl }),
        ...(log === undefined ? {} : { log }),
      });
      const { url } = await gateway.listen(opts.listen.port, opts.listen.host);
      if (!LOOPBACK.test(opts.listen.host))
        process.stderr.write(
          `kumo: warning: serving plain HTTP on ${opts.listen.host}; passwords and tokens cross the network unencrypted (put a TLS proxy in front)\n`,
        );
      process.stdout.write(
        `kumo gateway for datacenter ${file.name} listening on ${url} (OS_AUTH_URL=${gateway.url}/v3)\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          process.stderr.write(`kumo: ${signal}: stopping the gateway\n`);
          void gateway
            .close()
            .then(() => dc.close())
            .finally(resolve);
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
    });
}
