/**
 * Workload traces for `kumo simulate`: CSV, one job per row, with exactly this header
 *
 * ```
 * submit_s,cpus,memory_mib,gpus,duration_s,count
 * ```
 *
 * - `submit_s`: when the job is submitted, seconds from the start of the simulation;
 * - `cpus`, `memory_mib`, `gpus`: what each task needs (vCPUs, MiB, whole GPUs);
 * - `duration_s`: how long each task runs once started, in seconds;
 * - `count`: how many identical tasks the job has.
 *
 * Lines starting with `#` (before or after the header) are comments; blank lines are
 * skipped. Rows need not be sorted.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ValidationError, type Issue } from '../../core/index.js';

/** The header every trace starts with (after comments). */
export const TRACE_HEADER = 'submit_s,cpus,memory_mib,gpus,duration_s,count';

const COLUMNS = TRACE_HEADER.split(',');
/** Problems reported at most: enough to see a pattern, few enough to read. */
const MAX_ISSUES = 20;

/** Decimal numbers only: `Number()` would also take `0x10`, `0b1`, `Infinity` and blanks. */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

const num = (name: string) =>
  z.string({ error: `${name} is missing` }).transform((text, ctx) => {
    const t = text.trim();
    if (!DECIMAL.test(t)) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a decimal number (got "${t}")` });
      return z.NEVER;
    }
    return Number(t);
  });

/** One job of a trace. */
export const TraceRowSchema = z
  .object({
    submit_s: num('submit_s').pipe(z.number().nonnegative('submit_s cannot be negative')),
    cpus: num('cpus').pipe(z.number().positive('cpus must be more than 0').max(1_000_000)),
    memory_mib: num('memory_mib').pipe(
      z
        .number()
        .int('memory_mib is a whole number of MiB')
        .nonnegative()
        .max(1 << 30),
    ),
    gpus: num('gpus').pipe(z.number().int('gpus is a whole number').nonnegative().max(1024)),
    duration_s: num('duration_s').pipe(z.number().positive('duration_s must be more than 0')),
    count: num('count').pipe(
      z.number().int('count is a whole number').positive('count must be at least 1').max(1_000_000),
    ),
  })
  .strict();
export type TraceRow = z.output<typeof TraceRowSchema>;

/**
 * Parses trace text. `file` names it in errors.
 *
 * @example
 * ```ts
 * parseTrace('submit_s,cpus,memory_mib,gpus,duration_s,count\n0,2,4096,0,600,10\n', 'mini.csv');
 * // [{ submit_s: 0, cpus: 2, memory_mib: 4096, gpus: 0, duration_s: 600, count: 10 }]
 * ```
 * @throws ValidationError naming each bad line and field (the first 20).
 */
export function parseTrace(text: string, file = 'trace'): TraceRow[] {
  const lines = text.split(/\r?\n/);
  const issues: Issue[] = [];
  const rows: TraceRow[] = [];
  let header = false;
  // Lines past the first MAX_ISSUES problems are not read; how many, so the count is honest.
  let more = 0;
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    if (issues.length >= MAX_ISSUES) {
      more++;
      return;
    }
    const at = `${file}:${i + 1}`;
    if (!header) {
      if (line.replace(/\s+/g, '') !== TRACE_HEADER)
        issues.push({
          path: at,
          message: `the header must be exactly ${TRACE_HEADER} (got ${line})`,
          line: i + 1,
          column: 1,
        });
      header = true;
      return;
    }
    const cells = line.split(',').map((c) => c.trim());
    if (cells.length !== COLUMNS.length) {
      issues.push({
        path: at,
        message: `expected ${COLUMNS.length} columns (${TRACE_HEADER}), got ${cells.length}`,
        line: i + 1,
        column: 1,
      });
      return;
    }
    const parsed = TraceRowSchema.safeParse(
      Object.fromEntries(COLUMNS.map((c, k) => [c, cells[k] === '' ? undefined : cells[k]])),
    );
    if (parsed.success) rows.push(parsed.data);
    else
      for (const issue of parsed.error.issues)
        issues.push({
          path: `${at} ${issue.path.map(String).join('.')}`,
          message: issue.message,
          line: i + 1,
          column: COLUMNS.indexOf(String(issue.path[0])) + 1,
        });
  });
  if (!header && issues.length === 0)
    issues.push({ path: file, message: `the trace is empty; it needs the header ${TRACE_HEADER}` });
  if (issues.length > 0) {
    const count =
      more === 0
        ? `${issues.length} problem(s)`
        : `${issues.length} or more problem(s) (the first ${MAX_ISSUES} shown; ${more} line(s) after them not read)`;
    throw new ValidationError(
      `${file} has ${count}:\n${issues.map((i) => `  ${i.path}: ${i.message}`).join('\n')}`,
      { issues },
    );
  }
  return rows
    .map((r, i) => ({ r, i }))
    .sort((a, b) => a.r.submit_s - b.r.submit_s || a.i - b.i)
    .map(({ r }) => r);
}

/**
 * Reads a trace file.
 * @throws ValidationError when it cannot be read or a line is bad.
 */
export function loadTrace(path: string): TraceRow[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ValidationError(
      `trace ${path} ${code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? String(err)})`}`,
      {
        issues: [{ path: '--trace', message: code === 'ENOENT' ? 'not found' : 'cannot be read' }],
      },
    );
  }
  return parseTrace(text, path);
}

/** Trace text: comment lines, the header, then one line per row. */
export function formatTrace(rows: readonly TraceRow[], comments: readonly string[] = []): string {
  const body = rows.map((r) =>
    [r.submit_s, r.cpus, r.memory_mib, r.gpus, r.duration_s, r.count].join(','),
  );
  return [...comments.map((c) => `# ${c}`), TRACE_HEADER, ...body, ''].join('\n');
}

/** Totals of a trace, for reports. */
export function traceStats(rows: readonly TraceRow[]): {
  jobs: number;
  tasks: number;
  cpuHours: number;
  lastSubmitS: number;
} {
  let tasks = 0;
  let cpuHours = 0;
  let last = 0;
  for (const r of rows) {
    tasks += r.count;
    cpuHours += (r.count * r.cpus * r.duration_s) / 3600;
    last = Math.max(last, r.submit_s);
  }
  return {
    jobs: rows.length,
    tasks,
    cpuHours: Math.round(cpuHours * 100) / 100,
    lastSubmitS: last,
  };
}
