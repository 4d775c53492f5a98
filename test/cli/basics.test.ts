import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

describe('kumo basics', () => {
  it('prints help listing the commands', async () => {
    const { code, stdout } = await runCli(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/Usage: kumo/);
    expect(stdout).toMatch(/sizes/);
  });

  it('prints its version, also as JSON', async () => {
    expect((await runCli(['version'])).stdout).toMatch(/^kumo \d+\.\d+\.\d+ \(node v\d+/);
    expect(JSON.parse((await runCli(['version', '--json'])).stdout)).toMatchObject({
      version: expect.any(String),
    });
  });

  it('lists sim sizes cheapest first as a table', async () => {
    const { code, stdout } = await runCli(['sizes', '--provider', 'sim']);
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SIZE\s+VCPU\s+MEMORY_MIB\s+GPUS\s+ARCH\s+USD_H\s+ZONES$/);
    expect(lines[1]).toMatch(/^cpu-2x4\s+2\s+4096/);
  });

  it('lists sizes as JSON for scripts, filtered by zone', async () => {
    const { stdout } = await runCli(['sizes', '--provider', 'sim', '--zone', 'sim-1c', '--json']);
    const sizes = JSON.parse(stdout) as { name: string; resources: { gpus: number } }[];
    expect(sizes.length).toBeGreaterThan(10);
    expect(sizes.every((s) => s.resources.gpus === 0)).toBe(true);
  });

  it('resolves image aliases on sim', async () => {
    const { stdout } = await runCli(['images', '--provider', 'sim', 'debian-12', '--json']);
    expect(JSON.parse(stdout)).toEqual([
      { image: 'debian-12', resolved: expect.objectContaining({ id: 'img-debian-12' }) },
    ]);
  });

  it('fails in one line with exit code 2 on an unknown provider', async () => {
    const { code, stderr } = await runCli(['sizes', '--provider', 'nimbus']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^kumo: unknown provider "nimbus"/);
  });

  it('fails with exit code 2 on an unknown image, and as JSON with --json', async () => {
    const { code, stderr } = await runCli(['images', '--provider', 'sim', 'plan9', '--json']);
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toMatchObject({ error: { code: 'NotFound' } });
  });

  it('fails with exit code 2 on an unknown command', async () => {
    expect((await runCli(['launch-rockets'])).code).toBe(2);
  });

  it('reports a usage error as JSON with --json', async () => {
    const { code, stderr } = await runCli(['sizes', '--provider', 'sim', '--json', '--bogus']);
    expect(code).toBe(2);
    expect(JSON.parse(stderr)).toEqual({
      error: { code: 'UsageError', message: "unknown option '--bogus'" },
    });
  });
});
