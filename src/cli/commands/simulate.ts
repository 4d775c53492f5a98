import { existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import {
  isKumoError,
  systemClock,
  ValidationError,
  type Clock,
  type Issue,
  type Provider,
} from '../../core/index.js';
import {
  buildCandidates,
  BurstPolicySchema,
  burstPolicyIssues,
  DEFAULT_PORTS_PER_AGENT,
  describeBurstEvent,
  providerIssuesAt,
  providerRanks,
  type BurstPolicy,
  type ProviderCatalog,
  type SpecFile,
} from '../../logical-dc/index.js';
import {
  loadTrace,
  simulate,
  writeReport,
  type SimulationReport,
} from '../../logical-dc/simulate/index.js';
import { sim } from '../../providers/sim/index.js';
import { seconds } from '../dc-command.js';
import { optionError } from '../output.js';
import { loadSpec, specPath } from '../spec-loader.js';

interface SimulateFlags {
  file?: string;
  trace: string;
  out: string;
  json?: boolean;
  burst: boolean;
  restartable?: boolean;
  tail?: number;
  sample?: number;
  verbose?: boolean;
}

/**
 * Every provider of the file, simulated on the simulation's clock: `sim` providers with
 * their own settings, other kinds as a sim cloud of the same name and region (the sim
 * catalog's sizes and prices; the zones the burst targets name).
 */
function simulatedProviders(
  file: SpecFile,
  notes: string[],
): (clock: Clock) => Record<string, Provider> {
  const issues: Issue[] = [];
  const settings = new Map<string, Record<string, unknown>>();
  let seed = 1;
  for (const [name, decl] of Object.entries(file.providers)) {
    seed++;
    if (decl.kind === 'sim') {
      // The simulation's clouds live in memory only: never the file's sim state.
      const { statePath: _ignored, ...rest } = decl.settings;
      settings.set(name, { ...rest, name });
    } else {
      const zones = [
        ...new Set(
          (file.spec.burst?.targets ?? [])
            .filter((t) => t.provider === name)
            .flatMap((t) => t.zones ?? []),
        ),
      ];
      const region =
        typeof decl.settings['region'] === 'string' ? decl.settings['region'] : undefined;
      settings.set(name, {
        name,
        seed,
        ...(region === undefined ? {} : { region }),
        ...(zones.length > 0 ? { zones } : {}),
      });
      notes.push(
        `provider ${name} (${decl.kind}) is simulated with the sim catalog's sizes and prices`,
      );
    }
  }
  // Settings are checked now, so mistakes are reported at their line in the file.
  const probe = new Map<string, Provider>();
  for (const [name, s] of settings) {
    try {
      probe.set(name, sim(s));
    } catch (err) {
      if (!(isKumoError(err) && err instanceof ValidationError)) throw err;
      const own = err.issues.length > 0 ? err.issues : [{ path: '(root)', message: err.message }];
      issues.push(...providerIssuesAt(name, own, file));
    }
  }
  if (issues.length > 0) throw file.error(issues);
  return (clock) => Object.fromEntries([...settings].map(([name, s]) => [name, sim(s, { clock })]));
}

function summaryLines(r: SimulationReport, files: { json: string; html: string }): string[] {
  const lb =
    r.cost.lowerBoundBurstUsd === null
      ? ''
      : ` (lower bound $${r.cost.lowerBoundBurstUsd.toFixed(2)}, ×${r.cost.burstVsLowerBound ?? '–'})`;
  return [
    `Simulated ${(r.durationS / 3600).toFixed(2)} h: ${r.trace.jobs} jobs, ${r.tasks.submitted} tasks (${r.tasks.finished} finished, ${r.tasks.failed} failed, ${r.tasks.neverStarted} never started${r.tasks.unfinished > 0 ? `, ${r.tasks.unfinished} unfinished at the end` : ''}${r.tasks.moved > 0 ? `, ${r.tasks.moved} moved` : ''}).`,
    ...(r.tasks.neverStarted + r.tasks.unfinished > 0
      ? [
          `Warning: ${r.tasks.neverStarted + r.tasks.unfinished} task(s) did not finish before the run ended; waits count started tasks only (a task no machine can hold, or --tail cut the run short).`,
        ]
      : []),
    `Cost: $${r.cost.totalUsd.toFixed(2)} in all; burst $${r.cost.burstUsd.toFixed(2)}${lb}; base pools $${r.cost.baseUsd.toFixed(2)}.`,
    ...(r.cost.burstUsd > 0
      ? [
          `Burst money: $${r.cost.burstBreakdown.busyUsd.toFixed(2)} running tasks, $${r.cost.burstBreakdown.bootUsd.toFixed(2)} booting, $${r.cost.burstBreakdown.idleUsd.toFixed(2)} idle.`,
        ]
      : []),
    `Machine-hours: ${
      Object.entries(r.machineHours)
        .map(([p, h]) => `${p} ${h}`)
        .join(', ') || 'none'
    }.`,
    `Wait: p50 ${r.waitS.p50} s, p95 ${r.waitS.p95} s, p99 ${r.waitS.p99} s (max ${r.waitS.max} s).`,
    `Utilisation: ${Math.round(r.utilization.all * 100)} % (base ${Math.round(r.utilization.base * 100)} %, burst ${Math.round(r.utilization.burst * 100)} %).`,
    r.burst.budgetPerHour === null
      ? 'Burst: off.'
      : `Burst: ${r.burst.launched} machine(s) launched, at most ${r.burst.peakMachines} at once; peak spend $${r.burst.peakSpendPerHour.toFixed(4)}/h of $${r.burst.budgetPerHour}/h; ${r.decisions.length} event(s).`,
    `Report: ${files.json}, ${files.html}`,
  ];
}

/**
 * A burst target's size that its (simulated) cloud does not offer is a mistake in the
 * spec, reported at its line before the run (the controller would only skip it). The
 * candidates are built as the controller builds them, so the two never disagree.
 */
async function checkTargetSizes(
  file: SpecFile,
  policy: BurstPolicy,
  providers: (clock: Clock) => Record<string, Provider>,
): Promise<void> {
  const clouds = providers(systemClock);
  const catalogs = new Map<string, ProviderCatalog>();
  for (const { provider } of policy.targets) {
    const cloud = clouds[provider];
    if (cloud !== undefined && !catalogs.has(provider))
      catalogs.set(provider, {
        region: cloud.region,
        sizes: await cloud.listSizes({ spot: true }),
      });
  }
  const { problems } = buildCandidates(policy, catalogs, {
    portsPerAgent: DEFAULT_PORTS_PER_AGENT,
    ranks: providerRanks(policy),
  });
  const issues: Issue[] = [];
  for (const p of problems) {
    if (p.path?.includes('.sizes.') !== true) continue;
    const provider = policy.targets.find((t) => t.name === p.target)?.provider;
    issues.push({
      path: `burst.${p.path}`,
      message: `${p.message} (kumo sizes -f ${file.path} -p ${provider ?? ''} lists them)`,
    });
  }
  if (issues.length > 0) throw file.error(issues);
}

/** The report directory must be one, or creatable, before hours of simulated time run. */
function checkOut(dir: string): void {
  const bad = (message: string): ValidationError => optionError(`--out ${dir}`, '--out', message);
  if (existsSync(dir)) {
    if (!statSync(dir).isDirectory()) throw bad('exists and is not a directory');
    return;
  }
  let parent = dirname(dir);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw bad(`${parent} is not a directory`);
}

export function registerSimulate(program: Command): void {
  program
    .command('simulate')
    .description(
      'run the datacenter and its burst policy on virtual time over a workload trace; write report.json and report.html',
    )
    .option(
      '-f, --file <spec>',
      'spec file (default: $KUMO_FILE, else kumo.yaml, else the file last applied from this directory)',
    )
    .requiredOption(
      '--trace <csv>',
      'workload trace: CSV with header submit_s,cpus,memory_mib,gpus,duration_s,count',
    )
    .requiredOption('--out <dir>', 'directory for report.json and report.html')
    .option('--no-burst', 'simulate the base pools alone (no burst controller)')
    .option(
      '--restartable',
      "the trace's tasks may be stopped and run again elsewhere (consolidation with act moves them)",
    )
    .option('--tail <seconds>', 'longest to run past the last submission (default 43200)', seconds)
    .option('--sample <seconds>', 'time between chart samples (default 60)', seconds)
    .option('-v, --verbose', 'print each burst decision as it happens')
    .option('--json', 'JSON lines: each burst event as it happens, then the summary')
    .action(async (opts: SimulateFlags) => {
      const file = loadSpec(specPath(opts.file));
      if (opts.burst && file.spec.burst === undefined)
        throw file.error([
          {
            path: 'burst',
            message: 'the spec has no burst policy (add burst:, or use --no-burst)',
          },
        ]);
      if (opts.burst && file.spec.burst !== undefined) {
        const issues = burstPolicyIssues(file.spec.burst, {
          pools: Object.keys(file.spec.pools),
          providers: Object.keys(file.providers),
        });
        if (issues.length > 0) throw file.error(issues);
      }
      const trace = loadTrace(opts.trace);
      checkOut(resolve(opts.out));
      const notes: string[] = [];
      const providers = simulatedProviders(file, notes);
      if (opts.burst && file.spec.burst !== undefined)
        await checkTargetSizes(file, BurstPolicySchema.parse(file.spec.burst), providers);
      if (!opts.json) for (const n of notes) process.stderr.write(`kumo: note: ${n}\n`);
      const report = await simulate({
        name: file.name,
        spec: file.spec,
        providers,
        trace,
        noBurst: !opts.burst,
        restartable: opts.restartable === true,
        ...(opts.tail === undefined ? {} : { tailMs: opts.tail * 1000 }),
        ...(opts.sample === undefined ? {} : { sampleMs: Math.max(1, opts.sample) * 1000 }),
        source: { spec: opts.file ?? specPath(undefined), trace: opts.trace },
        onEvent: (e) => {
          if (opts.json) process.stdout.write(`${JSON.stringify({ event: e })}\n`);
          else if (opts.verbose) process.stdout.write(`${describeBurstEvent(e)}\n`);
        },
      });
      const files = writeReport(resolve(opts.out), report);
      if (opts.json) {
        const { series: _series, decisions: _decisions, ...summary } = report;
        process.stdout.write(`${JSON.stringify({ summary, files })}\n`);
        return;
      }
      process.stdout.write(`${summaryLines(report, files).join('\n')}\n`);
    });
}
