import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventLine, progressMode, progressPrinter } from '../../src/cli/progress.js';
import { LogicalDatacenter, memoryStore } from '../../src/logical-dc/index.js';
import { sim } from '../../src/providers/sim/index.js';

const FAST = { apiMs: 0, bootMs: 0, stopMs: 0, deleteMs: 0 };
const SPEC = {
  pools: {
    web: {
      provider: 'cloud',
      count: 5,
      machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
    },
  },
};

/** Applies SPEC with a printer in `mode`, returning what went to stdout and stderr. */
async function applyShown(mode: 'tty' | 'lines' | 'json'): Promise<{ out: string; err: string }> {
  const dc = new LogicalDatacenter({
    name: 'progress',
    store: memoryStore(),
    providers: { cloud: sim({ name: 'cloud', seed: 1, latency: FAST }) },
  });
  let out = '';
  let err = '';
  const stdout = vi
    .spyOn(process.stdout, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((out += String(chunk)), true));
  const stderr = vi
    .spyOn(process.stderr, 'write')
    .mockImplementation((chunk: string | Uint8Array) => ((err += String(chunk)), true));
  try {
    const printer = progressPrinter(mode);
    dc.events.on(printer.listener);
    await dc.apply(SPEC);
    printer.end();
  } finally {
    stdout.mockRestore();
    stderr.mockRestore();
  }
  return { out, err };
}

afterEach(() => vi.unstubAllEnvs());

describe('apply progress', () => {
  it('draws bars on a terminal, redrawn in place on stderr, leaving stdout alone', async () => {
    const { out, err } = await applyShown('tty');
    expect(out).toBe('');
    const frames = err.split('\r\x1b[2K').filter((f) => f !== '');
    // Nothing to delete: no delete bar.
    expect(frames[0]).toMatch(/^create \[\.{30}\] 0\/5$/);
    expect(frames.at(-1)).toBe(`create [${'#'.repeat(30)}] 5/5\n`);
  });

  it('prints one plain line per event when not on a terminal', async () => {
    const { out, err } = await applyShown('lines');
    expect(err).toBe('');
    expect(out.match(/^created {2}web-\S+ \(web on cloud, /gm)).toHaveLength(5);
    expect(out).toMatch(/^apply {4}1 step\(s\): 5 machine\(s\) to create, 0 to delete$/m);
  });

  it('streams one JSON object per event for scripts', async () => {
    const { out } = await applyShown('json');
    const events = out
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { event: { type: string } }).event.type);
    expect(events.filter((t) => t === 'machine.created')).toHaveLength(5);
    expect(events.at(-1)).toBe('apply.finished');
  });

  it('uses bars only on a terminal outside CI', () => {
    const saved = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    const terminal = (isTTY: boolean): void => {
      Object.defineProperty(process.stderr, 'isTTY', { value: isTTY, configurable: true });
    };
    try {
      vi.stubEnv('CI', undefined);
      terminal(true);
      expect(progressMode(false)).toBe('tty');
      expect(progressMode(true)).toBe('json');
      vi.stubEnv('CI', 'true');
      expect(progressMode(false)).toBe('lines');
      vi.stubEnv('CI', undefined);
      terminal(false);
      expect(progressMode(false)).toBe('lines');
    } finally {
      if (saved === undefined) Reflect.deleteProperty(process.stderr, 'isTTY');
      else Object.defineProperty(process.stderr, 'isTTY', saved);
    }
  });
});

describe('event lines', () => {
  it('call a machine of no pool an orphan, in plain words', () => {
    expect(
      eventLine({
        type: 'machine.deleting',
        id: 'web-1',
        pool: '(orphan)',
        provider: 'cloud',
        reason: 'orphan (--prune)',
      }),
    ).toBe('deleting web-1 (orphan on cloud): orphan (--prune)');
  });
});
