/**
 * The burst log: decisions written as JSON lines beside the state database
 * (`.kumo/burst-log.jsonl`), so `kumo status` shows what burst did and why, from any
 * process. Holds no secrets (events carry sizes, prices and ids only).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BurstEvent, BurstMachineView } from './burst-events.js';
import { formatDuration } from './duration.js';

/** Where burst events go. */
export interface BurstLog {
  append(event: BurstEvent): void;
}

/** The burst log of the state database at `statePath`. */
export function burstLogPath(statePath: string): string {
  return join(dirname(statePath), 'burst-log.jsonl');
}

/**
 * A burst log in a JSON-lines file (mode 0600). When it passes `maxBytes` it is moved
 * to `<path>.1` and a new one begun, so it never grows without bound. The new file
 * begins with a `burst.snapshot` of what the two files said (machines held, totals):
 * a machine made before both rotations still shows in `kumo status`.
 *
 * @example
 * ```ts
 * const controller = new BurstController({ dc, scheduler, policy, log: fileBurstLog(burstLogPath('.kumo/state.db')) });
 * ```
 */
export function fileBurstLog(path: string, options: { maxBytes?: number } = {}): BurstLog {
  const maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
  mkdirSync(dirname(path), { recursive: true });
  return {
    append(event) {
      if (existsSync(path) && statSync(path).size > maxBytes) {
        const { machines, launched, released, costUsd } = summarizeBurstLog(readBurstLog(path));
        renameSync(path, `${path}.1`);
        const snapshot: BurstEvent = {
          type: 'burst.snapshot',
          at: event.at,
          machines,
          launched,
          released,
          costUsd,
        };
        appendFileSync(path, `${JSON.stringify(snapshot)}\n`, { mode: 0o600 });
      }
      appendFileSync(path, `${JSON.stringify(event)}\n`, { mode: 0o600 });
    },
  };
}

/**
 * Every event in a burst log, the rotated file (`<path>.1`) first, so machines that
 * came up before the last rotation still show. Lines that are not events (a torn last
 * write) are skipped.
 */
export function readBurstLog(path: string): BurstEvent[] {
  const out: BurstEvent[] = [];
  for (const file of [`${path}.1`, path]) if (existsSync(file)) readEvents(file, out);
  return out;
}

function readEvents(path: string, out: BurstEvent[]): void {
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as { type?: unknown; at?: unknown };
      if (typeof e.type === 'string' && e.type.startsWith('burst.') && typeof e.at === 'number')
        out.push(e as BurstEvent);
    } catch {
      // NOTE: a process killed mid-append leaves half a line; the rest is still good.
    }
  }
}

/** What a burst log says now: machines burst holds, their spend, and the latest decisions. */
export interface BurstSummary {
  readonly machines: readonly BurstMachineView[];
  readonly spendPerHour: number;
  readonly launched: number;
  readonly released: number;
  readonly costUsd: number;
  readonly recent: readonly BurstEvent[];
}

/** Replays a log into a summary (machines provisioned and not yet released or lost). */
export function summarizeBurstLog(events: readonly BurstEvent[], recent = 10): BurstSummary {
  const live = new Map<string, BurstMachineView>();
  let launched = 0;
  let released = 0;
  let costUsd = 0;
  for (const e of events) {
    if (e.type === 'burst.snapshot') {
      // What came before, as the log's rotation summed it up.
      live.clear();
      for (const m of e.machines) live.set(m.id, m);
      ({ launched, released, costUsd } = e);
    } else if (e.type === 'burst.provisioned') {
      live.set(e.machine.id, e.machine);
      launched++;
    } else if (e.type === 'burst.released') {
      live.delete(e.id);
      released++;
      costUsd += e.costUsd;
    } else if (e.type === 'burst.lost') live.delete(e.id);
  }
  const machines = [...live.values()];
  const decisions = events.filter(
    (e) =>
      e.type !== 'burst.provisioned' && e.type !== 'burst.running' && e.type !== 'burst.snapshot',
  );
  return {
    machines,
    spendPerHour: Math.round(machines.reduce((n, m) => n + m.pricePerHour, 0) * 1e6) / 1e6,
    launched,
    released,
    costUsd: Math.round(costUsd * 1e4) / 1e4,
    recent: decisions.slice(-recent),
  };
}

/** One line for an event: when, what, why. */
export function describeBurstEvent(e: BurstEvent): string {
  const when = new Date(e.at).toISOString().replace('.000Z', 'Z');
  switch (e.type) {
    case 'burst.scale-up':
      return `${when} scale up: ${e.chosen.map((c) => `${c.count}× ${c.size}${c.spot ? ' spot' : ''} on ${c.provider}${c.zone ? `/${c.zone}` : ''}`).join(', ')} (+${money(e.pricePerHour)}/h, bound ${money(e.lowerBoundPerHour)}/h, ${e.strategy}) — ${e.reason}`;
    case 'burst.held':
      return `${when} held (${e.reason}): ${e.message}`;
    case 'burst.provisioned':
      return `${when} provisioned ${e.machine.id} (${e.machine.size} on ${e.machine.provider})`;
    case 'burst.provision-failed':
      return `${when} ${e.candidate} failed: ${e.error.code}: ${e.error.message}; ${e.fallback}`;
    case 'burst.running':
      return `${when} ${e.id} running after ${formatDuration(e.bootS * 1000)}`;
    case 'burst.drain':
      return `${when} drain ${e.id}: ${e.reason} (${e.tasks} task(s), ${e.deadlineS === null ? 'no deadline' : `deadline ${formatDuration(e.deadlineS * 1000)}`})`;
    case 'burst.reactivated':
      return `${when} reactivated ${e.id}: ${e.reason}`;
    case 'burst.released':
      return `${when} released ${e.id}: ${e.reason} (up ${formatDuration(e.lifetimeS * 1000)}, ${money(e.costUsd)})`;
    case 'burst.lost':
      return `${when} lost ${e.id}: ${e.reason}`;
    case 'burst.consolidation':
      return `${when} consolidation${e.acted ? ' (acting)' : ' (suggestion)'}: ${e.message}`;
    case 'burst.warning':
      return `${when} warning: ${e.message}`;
    case 'burst.snapshot':
      return `${when} log rotated: ${e.machines.length} machine(s) held, ${e.launched} launched, ${e.released} released`;
  }
}

function money(n: number): string {
  return `$${n.toFixed(n < 10 ? 4 : 2)}`;
}

/** The `Burst` section of `kumo status`. */
export function formatBurstStatus(summary: BurstSummary): string {
  const lines = [
    `Burst: ${summary.machines.length} machine(s), ${money(summary.spendPerHour)}/h; ${summary.launched} launched, ${summary.released} released (${money(summary.costUsd)} spent on released machines)`,
  ];
  for (const m of summary.machines)
    lines.push(
      `  ${m.id}  ${m.target}  ${m.provider}${m.zone ? `/${m.zone}` : ''}  ${m.size}${m.spot ? ' spot' : ''}  ${money(m.pricePerHour)}/h`,
    );
  if (summary.recent.length > 0) {
    lines.push('Recent burst decisions:');
    for (const e of summary.recent) lines.push(`  ${describeBurstEvent(e)}`);
  }
  return lines.join('\n');
}
