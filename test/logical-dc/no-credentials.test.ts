import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seededRandom, VirtualClock } from '../../src/core/index.js';
import { LogicalDatacenter, sqliteStore } from '../../src/logical-dc/index.js';
import { aws } from '../../src/providers/aws/index.js';
import { Ec2Fake, testCredentials } from '../fakes/ec2/index.js';

let dir: string;
let fake: Ec2Fake;
const clock = new VirtualClock({ start: Date.UTC(2026, 0, 1), autoAdvance: true });

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'kumo-nocreds-'));
  fake = new Ec2Fake({ clock, bootMs: 5_000, seed: 3 }).install();
});
afterEach(() => {
  fake.uninstall();
  rmSync(dir, { recursive: true, force: true });
});

describe('state and credentials', () => {
  it('an apply with a provider holding credentials leaves no trace of them in the state files', async () => {
    const credentials = testCredentials();
    const cloud = aws(
      { region: 'us-east-1', credentials: testCredentials() },
      { clock, random: seededRandom(1) },
    );
    const dc = new LogicalDatacenter({
      name: 'nocreds',
      store: sqliteStore(join(dir, '.kumo', 'state.db')),
      providers: { cloud },
      clock,
    });
    const { summary } = await dc.apply({
      pools: {
        web: {
          provider: 'cloud',
          count: 2,
          machine: { resources: { cpus: 2, memoryMiB: 4096 }, image: 'ubuntu-22.04' },
        },
      },
    });
    expect(summary).toMatchObject({ ok: true, created: 2 });
    await dc.close();
    cloud.close();
    const files = readdirSync(join(dir, '.kumo'));
    expect(files).toContain('state.db');
    const bytes = files.map((f) => readFileSync(join(dir, '.kumo', f)).toString('latin1')).join('');
    // The state did record the machines, so the check below looks at real content.
    expect(bytes).toContain('"provider":"cloud"');
    expect(bytes).not.toContain(credentials.accessKeyId);
    expect(bytes).not.toContain(credentials.secretAccessKey);
  });
});
