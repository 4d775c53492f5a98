/**
 * The simulation report as one self-contained HTML page: summary figures, charts drawn
 * as inline SVG (machines by provider over time, pending demand, cost) and the burst
 * decisions. No scripts, fonts or assets from anywhere: it opens from disk, offline.
 */
import { describeBurstEvent } from '../burst/burst-log.js';
import type { SimulationReport, SimulationSample } from './report.js';

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#76b7b2',
  '#edc948',
  '#b07aa1',
  '#9c755f',
];

function esc(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/** Round numbers for an axis from 0 to at least `max`. */
function ticks(max: number, count = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = 0; v <= max + step * 0.999; v += step) out.push(Math.round(v * 1e6) / 1e6);
  return out;
}

interface Series {
  readonly name: string;
  readonly color: string;
  readonly values: readonly number[];
  /** Drawn dashed (a limit, not a measurement). */
  readonly dashed?: boolean;
}

interface ChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly hours: readonly number[];
  readonly series: readonly Series[];
  /** Series are stacked areas (machines by provider). */
  readonly stacked?: boolean;
}

const W = 920;
const H = 280;
const M = { left: 64, right: 16, top: 34, bottom: 42 };

/** One chart as an inline SVG element. */
export function svgChart(o: ChartOptions): string {
  const n = o.hours.length;
  const xMax = Math.max(o.hours[n - 1] ?? 1, 1e-6);
  const tops: number[][] = [];
  if (o.stacked) {
    const acc = new Array<number>(n).fill(0);
    for (const s of o.series) {
      for (let i = 0; i < n; i++) acc[i]! += s.values[i] ?? 0;
      tops.push([...acc]);
    }
  } else for (const s of o.series) tops.push([...s.values]);
  const yMax = Math.max(1e-9, ...tops.flat());
  const yt = ticks(yMax);
  const yTop = yt[yt.length - 1]!;
  const xt = ticks(xMax, 8).filter((v) => v <= xMax + 1e-9);
  const px = (h: number): number => M.left + (h / xMax) * (W - M.left - M.right);
  const py = (v: number): number => H - M.bottom - (v / yTop) * (H - M.top - M.bottom);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="100%" role="img" aria-label="${esc(o.title)}">`,
    `<text x="${M.left}" y="20" class="title">${esc(o.title)}</text>`,
  );
  for (const v of yt)
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${py(v).toFixed(1)}" y2="${py(v).toFixed(1)}" class="grid"/>`,
      `<text x="${M.left - 6}" y="${(py(v) + 4).toFixed(1)}" class="tick" text-anchor="end">${v}</text>`,
    );
  for (const h of xt)
    parts.push(
      `<line x1="${px(h).toFixed(1)}" x2="${px(h).toFixed(1)}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" class="axis"/>`,
      `<text x="${px(h).toFixed(1)}" y="${H - M.bottom + 17}" class="tick" text-anchor="middle">${h}</text>`,
    );
  parts.push(
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" class="axis"/>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" class="axis"/>`,
    `<text x="${(W + M.left) / 2}" y="${H - 6}" class="label" text-anchor="middle">hours since start</text>`,
    `<text x="14" y="${(H - M.bottom + M.top) / 2}" class="label" text-anchor="middle" transform="rotate(-90 14 ${(H - M.bottom + M.top) / 2})">${esc(o.yLabel)}</text>`,
  );
  o.series.forEach((s, k) => {
    const top = tops[k]!;
    // Steps, not slopes: machines and tasks change at instants.
    const line: string[] = [];
    for (let i = 0; i < n; i++) {
      const x = px(o.hours[i]!).toFixed(1);
      const y = py(top[i]!).toFixed(1);
      if (i > 0) line.push(`${x},${py(top[i - 1]!).toFixed(1)}`);
      line.push(`${x},${y}`);
    }
    if (o.stacked) {
      const below = k === 0 ? new Array<number>(n).fill(0) : tops[k - 1]!;
      const back: string[] = [];
      for (let i = n - 1; i >= 0; i--) {
        const x = px(o.hours[i]!).toFixed(1);
        back.push(`${x},${py(below[i]!).toFixed(1)}`);
        if (i > 0) back.push(`${x},${py(below[i - 1]!).toFixed(1)}`);
      }
      parts.push(
        `<polygon points="${[...line, ...back].join(' ')}" fill="${s.color}" fill-opacity="0.55" stroke="none"/>`,
      );
    }
    parts.push(
      `<polyline points="${line.join(' ')}" fill="none" stroke="${s.color}" stroke-width="1.6"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
  });
  // The legend sits at the top right, clear of the title.
  const widths = o.series.map((s) => 26 + s.name.length * 7);
  let lx = W - M.right - widths.reduce((a, b) => a + b, 0);
  o.series.forEach((s, i) => {
    parts.push(
      `<rect x="${lx}" y="11" width="12" height="10" fill="${s.color}"/>`,
      `<text x="${lx + 16}" y="20" class="legend">${esc(s.name)}</text>`,
    );
    lx += widths[i]!;
  });
  parts.push('</svg>');
  return parts.join('\n');
}

function money(n: number | null): string {
  return n === null ? '–' : `$${n.toFixed(2)}`;
}

function card(label: string, value: string, note = ''): string {
  return `<div class="card"><div class="value">${esc(value)}</div><div class="label">${esc(label)}</div>${note ? `<div class="note">${esc(note)}</div>` : ''}</div>`;
}

/** The report page. */
export function renderReportHtml(r: SimulationReport): string {
  const s: readonly SimulationSample[] = r.series;
  const hours = s.map((x) => Math.round((x.t / 3600) * 1000) / 1000);
  // Providers in the order they first have machines: base pools (there from the start) at the bottom.
  const providers = [...new Set(s.flatMap((x) => Object.keys(x.machinesByProvider).sort()))];
  const machines = svgChart({
    title: 'Machines by provider',
    yLabel: 'machines',
    hours,
    stacked: true,
    series: providers.map((p, i) => ({
      name: p,
      color: PALETTE[i % PALETTE.length]!,
      values: s.map((x) => x.machinesByProvider[p] ?? 0),
    })),
  });
  const demand = svgChart({
    title: 'Tasks waiting and running',
    yLabel: 'tasks',
    hours,
    series: [
      { name: 'waiting', color: '#e15759', values: s.map((x) => x.pendingTasks) },
      { name: 'running', color: '#4e79a7', values: s.map((x) => x.runningTasks) },
    ],
  });
  const budget = r.burst.budgetPerHour;
  const spend = svgChart({
    title: 'Burst spend rate (USD per hour)',
    yLabel: 'USD / h',
    hours,
    series: [
      { name: 'burst spend', color: '#f28e2b', values: s.map((x) => x.burstSpendPerHour) },
      ...(budget === null
        ? []
        : [{ name: 'budget', color: '#888888', values: s.map(() => budget), dashed: true }]),
    ],
  });
  const cost = svgChart({
    title: 'Money spent (USD, cumulative)',
    yLabel: 'USD',
    hours,
    series: [
      { name: 'all machines', color: '#59a14f', values: s.map((x) => x.costUsd) },
      { name: 'burst machines', color: '#f28e2b', values: s.map((x) => x.burstCostUsd) },
    ],
  });
  const util = svgChart({
    title: 'Utilisation (share of agent vCPUs in use)',
    yLabel: 'share',
    hours,
    series: [{ name: 'utilisation', color: '#76b7b2', values: s.map((x) => x.utilization) }],
  });
  const decisions = r.decisions.filter(
    (e) => e.type !== 'burst.provisioned' && e.type !== 'burst.running',
  );
  const shown = decisions.slice(0, 400);
  const rows = shown
    .map((e) => {
      const rel = ((e.at - r.startAt) / 3_600_000).toFixed(3);
      return `<tr><td>${rel}</td><td>${esc(e.type.replace('burst.', ''))}</td><td>${esc(describeBurstEvent(e).replace(/^\S+ /, ''))}</td></tr>`;
    })
    .join('\n');
  const byProvider = Object.entries(r.machineHours)
    .map(
      ([p, h]) =>
        `<tr><td>${esc(p)}</td><td>${h}</td><td>${money(r.cost.byProvider[p] ?? 0)}</td></tr>`,
    )
    .join('\n');
  const policy = r.policy;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kumo simulate — report</title>
<style>
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 24px auto; max-width: 980px; color: #222; padding: 0 16px; }
  h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 28px 0 8px; }
  .sub { color: #666; margin-bottom: 16px; }
  .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr)); gap: 10px; }
  .card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 12px; background: #fafafa; }
  .card .value { font-size: 20px; font-weight: 600; } .card .label { color: #555; } .card .note { color: #888; font-size: 12px; }
  svg { display: block; margin: 8px 0 4px; background: #fff; border: 1px solid #eee; border-radius: 6px; }
  svg .title { font-size: 14px; font-weight: 600; fill: #222; } svg .tick { font-size: 11px; fill: #555; }
  svg .label { font-size: 12px; fill: #444; } svg .legend { font-size: 12px; fill: #333; }
  svg .grid { stroke: #eee; } svg .axis { stroke: #999; }
  table { border-collapse: collapse; width: 100%; font-size: 13px; } td, th { border-bottom: 1px solid #eee; padding: 4px 6px; text-align: left; vertical-align: top; }
  th { background: #f4f4f4; } code { background: #f4f4f4; padding: 1px 4px; border-radius: 3px; }
</style>
</head>
<body>
<h1>kumo simulate</h1>
<div class="sub">${esc([r.source.spec && `spec ${r.source.spec}`, r.source.trace && `trace ${r.source.trace}`].filter(Boolean).join(' · '))} · ${r.trace.jobs} jobs, ${r.trace.tasks} tasks, ${r.trace.cpuHours} vCPU-hours · ${(r.durationS / 3600).toFixed(2)} h simulated</div>
<div class="cards">
${card('burst cost', money(r.cost.burstUsd), r.cost.lowerBoundBurstUsd === null ? '' : `lower bound ${money(r.cost.lowerBoundBurstUsd)} (×${r.cost.burstVsLowerBound ?? '–'})`)}
${card('burst money went to', `${money(r.cost.burstBreakdown.busyUsd)} tasks`, `${money(r.cost.burstBreakdown.bootUsd)} booting, ${money(r.cost.burstBreakdown.idleUsd)} idle`)}
${card('total cost', money(r.cost.totalUsd), `base pools ${money(r.cost.baseUsd)}`)}
${card('wait p50 / p95 / p99', `${r.waitS.p50} / ${r.waitS.p95} / ${r.waitS.p99} s`, `max ${r.waitS.max} s, mean ${r.waitS.mean} s`)}
${card('utilisation', `${Math.round(r.utilization.all * 100)} %`, `base ${Math.round(r.utilization.base * 100)} %, burst ${Math.round(r.utilization.burst * 100)} %`)}
${card('burst machines', `${r.burst.launched} launched`, `at most ${r.burst.peakMachines} at once`)}
${card('peak burst spend', `${money(r.burst.peakSpendPerHour)}/h`, r.burst.budgetPerHour === null ? 'no burst policy' : `budget ${money(r.burst.budgetPerHour)}/h`)}
${card('tasks', `${r.tasks.finished} finished`, `${r.tasks.failed} failed, ${r.tasks.neverStarted} never started, ${r.tasks.moved} moved`)}
${card('longest idle burst machine', `${r.burst.longestIdleS} s`, policy === null ? '' : `idleFor ${policy.idleFor / 1000} s`)}
</div>
<h2>Machines</h2>
${machines}
<h2>Demand</h2>
${demand}
<h2>Cost</h2>
${spend}
${cost}
<h2>Utilisation</h2>
${util}
<h2>Machine-hours by provider</h2>
<table><tr><th>provider</th><th>machine-hours</th><th>cost</th></tr>
${byProvider}
</table>
<h2>Burst decisions</h2>
<p>${decisions.length} decision event(s)${decisions.length > shown.length ? `, the first ${shown.length} shown (all are in report.json)` : ''}; times in hours since the start.</p>
<table><tr><th>h</th><th>event</th><th>what and why</th></tr>
${rows}
</table>
</body>
</html>
`;
}
