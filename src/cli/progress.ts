/**
 * Shows a datacenter's events while a command runs: progress bars on a terminal, one
 * plain line per event otherwise, or one JSON object per line with `--json`.
 */
import type { DatacenterEvent } from '../logical-dc/index.js';

export type ProgressMode = 'json' | 'tty' | 'lines';

export function progressMode(json: boolean | undefined): ProgressMode {
  if (json === true) return 'json';
  return process.stderr.isTTY === true && process.env['CI'] === undefined ? 'tty' : 'lines';
}

/** "web on cloud", or "orphan on cloud" for a machine of no pool (its pool is `(orphan)`). */
function where(pool: string, provider: string): string {
  return `${pool === '(orphan)' ? 'orphan' : pool} on ${provider}`;
}

/** The line printed for an event in `lines` mode (undefined: not worth a line). */
export function eventLine(e: DatacenterEvent): string | undefined {
  switch (e.type) {
    case 'lock.waiting':
      return `waiting  for the state lock held by pid ${e.holder.pid} on ${e.holder.host} (${e.holder.command}, since ${e.holder.since})`;
    case 'lock.broken':
      return `unlock   broke the stale lock of pid ${e.holder.pid} (${e.holder.command}), which is no longer running`;
    case 'refresh.finished':
      return `refresh  ${e.machines} machine(s) seen, ${e.drift} drifted, ${e.orphans} orphan(s)`;
    case 'drift':
      return `drift    ${e.item.id} (${where(e.item.pool, e.item.provider)}) ${e.item.kind}: ${e.item.detail}`;
    case 'orphan':
      return `orphan   ${e.machine.id} on ${e.machine.provider} (${e.machine.providerId})`;
    case 'apply.started':
      return `apply    ${e.steps} step(s): ${e.creates} machine(s) to create, ${e.deletes} to delete${e.resumes ? `, ${e.resumes} interrupted intent(s) to resume` : ''}`;
    case 'intent.journaled':
      return `journal  ${e.kind} ${e.count}${e.pool ? ` × ${e.pool}` : ''} on ${e.provider} (key ${e.key})`;
    case 'intent.resumed':
      return `resume   ${e.kind}${e.pool ? ` ${e.pool}` : ''} on ${e.provider} (key ${e.key})`;
    case 'network.ensured':
      return `network  ${e.name} on ${e.provider} (${e.id})`;
    case 'network.deleted':
      return `network  ${e.name} on ${e.provider} deleted`;
    case 'machine.created':
      return `created  ${e.machine.id} (${where(e.pool, e.machine.provider)}, ${e.machine.size}, ${e.machine.zone}, ${e.machine.state})`;
    case 'machine.started':
      return `started  ${e.machine.id} (${where(e.pool, e.machine.provider)})`;
    case 'machine.deleting':
      return `deleting ${e.id} (${where(e.pool, e.provider)}): ${e.reason}`;
    case 'machine.deleted':
      return `deleted  ${e.id} (${where(e.pool, e.provider)})`;
    case 'machine.lost':
      return `lost     ${e.id} (${where(e.pool, e.provider)}): ${e.reason}`;
    case 'machine.adopted':
      return `adopted  ${e.machine.id} into pool ${e.pool}`;
    case 'step.failed':
      return `failed   ${e.error.code}: ${e.error.message}`;
    case 'machine.running':
    case 'apply.finished':
      return undefined;
  }
}

function bar(done: number, total: number, width = 30): string {
  const filled = total === 0 ? width : Math.round((Math.min(done, total) / total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
}

/** Returns a listener for `dc.events.on` and a function that ends the display. */
export function progressPrinter(mode: ProgressMode): {
  listener: (e: DatacenterEvent) => void;
  end: () => void;
} {
  if (mode === 'json')
    return {
      listener: (e) => process.stdout.write(`${JSON.stringify({ event: e })}\n`),
      end: () => undefined,
    };
  if (mode === 'lines')
    return {
      listener: (e) => {
        const line = eventLine(e);
        if (line !== undefined) process.stdout.write(`${line}\n`);
      },
      end: () => undefined,
    };
  let creates = 0;
  let created = 0;
  let deletes = 0;
  let deleted = 0;
  let failed = 0;
  let shown = false;
  const draw = (): void => {
    // Only the kinds of work this run has: an apply that deletes nothing shows no delete bar.
    const bars = [
      ...(creates > 0 ? [`create ${bar(created, creates)}`] : []),
      ...(deletes > 0 ? [`delete ${bar(deleted, deletes)}`] : []),
      ...(failed ? [`${failed} failed`] : []),
    ];
    const text = bars.join('   ');
    process.stderr.write(`\r\x1b[2K${text}`);
    shown = true;
  };
  return {
    listener: (e) => {
      if (e.type === 'apply.started') {
        creates = e.creates;
        deletes = e.deletes;
      } else if (e.type === 'machine.created') created++;
      else if (e.type === 'machine.deleting') deleted++;
      else if (e.type === 'step.failed') failed++;
      else if (
        e.type === 'intent.resumed' ||
        e.type === 'drift' ||
        e.type === 'lock.waiting' ||
        e.type === 'lock.broken'
      ) {
        // Rare events that deserve their own line above the bars.
        const line = eventLine(e);
        if (line !== undefined) process.stderr.write(`\r\x1b[2K${line}\n`);
      }
      if (e.type === 'intent.journaled' && e.kind === 'create' && created + e.count > creates)
        creates = created + e.count;
      if (creates + deletes > 0) draw();
    },
    end: () => {
      if (shown) process.stderr.write('\n');
      shown = false;
    },
  };
}
