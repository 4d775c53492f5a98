import { isAbsolute, relative } from 'node:path';
import type { Command } from 'commander';
import {
  burstLogPath,
  formatBurstStatus,
  readBurstLog,
  summarizeBurstLog,
  type StatusReport,
} from '../../logical-dc/index.js';
import { addDcOptions, type DcOptions } from '../dc-command.js';
import { printJson, table } from '../output.js';
import { loadDatacenter, stateExists } from '../spec-loader.js';

function money(n: number): string {
  return n.toFixed(4);
}

export function formatStatus(s: StatusReport): string {
  const lock =
    s.lock === undefined
      ? 'unlocked'
      : `locked by pid ${s.lock.pid} on ${s.lock.host} (${s.lock.command}, since ${s.lock.since})`;
  const rel = relative(process.cwd(), s.location);
  const where = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : s.location;
  const lines = [`Datacenter ${s.dc} (state ${where}, serial ${s.serial}, ${lock})`, ''];
  lines.push(
    table(
      [
        'POOL',
        'PROVIDER',
        'DESIRED',
        'MACHINES',
        'RUNNING',
        'PENDING',
        'OTHER',
        'VCPU',
        'MEMORY_MIB',
        'USD_H',
      ],
      s.pools.map((p) => {
        const running = p.byState.running ?? 0;
        const pending = p.byState.pending ?? 0;
        return [
          p.name,
          p.provider,
          p.desired,
          p.machines,
          running,
          pending,
          p.machines - running - pending,
          p.running.cpus,
          p.running.memoryMiB,
          money(p.pricePerHour),
        ];
      }),
    ),
  );
  const c = s.capacity;
  lines.push(
    '',
    `Total: ${c.machines} machine(s), ${c.byState.running ?? 0} running; ${c.running.cpus} vCPU, ${c.running.memoryMiB} MiB running; ${money(c.pricePerHour)} USD/h`,
  );
  if (s.networks.length > 0)
    lines.push(
      `Networks: ${s.networks.map((n) => `${n.name} on ${n.provider} (${n.id}${n.status === 'present' ? '' : `, ${n.status}`})`).join(', ')}`,
    );
  if (s.drift !== undefined) {
    lines.push(s.drift.length === 0 ? 'Drift: none.' : `Drift: ${s.drift.length}`);
    for (const d of s.drift)
      lines.push(`  ${d.id} (${d.pool} on ${d.provider}) ${d.kind}: ${d.detail}`);
  }
  if (s.orphans !== undefined) {
    lines.push(
      s.orphans.length === 0
        ? 'Orphans: none.'
        : `Orphans: ${s.orphans.length} (kumo adopt, or kumo apply --prune)`,
    );
    for (const o of s.orphans) lines.push(`  ${o.id} on ${o.provider} (${o.providerId})`);
  }
  lines.push(
    s.pendingIntents === 0
      ? 'Journal: empty.'
      : `Journal: ${s.pendingIntents} intent(s) from an interrupted apply; kumo apply resumes them.`,
  );
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  addDcOptions(program.command('status'))
    .description('pools, capacity, drift, orphans, the lock and the journal')
    .option('--no-refresh', 'show stored state only, without asking the providers')
    .action(async (opts: DcOptions & { refresh: boolean }) => {
      const { file, dc } = await loadDatacenter(opts.file, {
        readOnly: true,
        ...(opts.stateDb ? { state: opts.stateDb } : {}),
      });
      try {
        const report = await dc.status({ spec: file.spec, refresh: opts.refresh });
        // What a burst controller wrote beside the state database (fileBurstLog), if any.
        const events = readBurstLog(burstLogPath(file.statePath));
        const burst = events.length === 0 ? undefined : summarizeBurstLog(events);
        if (opts.json) return printJson(burst === undefined ? report : { ...report, burst });
        process.stdout.write(`${formatStatus(report)}\n`);
        if (!stateExists(file))
          process.stdout.write(
            `Nothing applied yet: ${file.statePath} does not exist (kumo apply makes it).\n`,
          );
        if (burst !== undefined) process.stdout.write(`\n${formatBurstStatus(burst)}\n`);
      } finally {
        await dc.close();
      }
    });
}
