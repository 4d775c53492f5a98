/**
 * Provisioning on the real OpenStack lab (scripts/openstack-lab/up.sh): create and
 * delete 50 servers with kumo (limiter-bounded concurrency, one batched poll per round)
 * and the same with plain sequential calls (POST, then wait for each server in turn;
 * DELETE, then wait for each 404), counting wall time and API calls.
 *
 * Skips with a message when the lab is not up. Run alone: `npm run bench -- openstack`.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TAG_KEY, waitUntil } from '../src/core/index.js';
import { HttpTransport, OpenStackApiError, type HttpEvent } from '../src/clients/openstack/http.js';
import { KeystoneSession } from '../src/clients/openstack/keystone.js';
import { openstack, resolveOpenStackConfig } from '../src/providers/openstack/index.js';
import { round, type Bench, type Figure } from './harness.js';

const LAB =
  process.env.KUMO_OPENSTACK_LAB ?? resolve(import.meta.dirname, '..', '.lab', 'openstack');
const CLOUDS = join(LAB, 'clouds.yaml');
const N = 50;

async function labUp(): Promise<string | undefined> {
  if (!existsSync(CLOUDS)) return `${CLOUDS} is missing`;
  try {
    const r = await fetch('http://127.0.0.1:8774/', { signal: AbortSignal.timeout(5000) });
    return r.ok ? undefined : `Nova answered ${r.status}`;
  } catch (err) {
    return `Nova on 127.0.0.1:8774 does not answer (${err instanceof Error ? err.message : String(err)})`;
  }
}

async function withKumo(run: string): Promise<{ seconds: number; calls: number }> {
  let calls = 0;
  const provider = openstack(
    { cloud: 'kumo-lab', cloudsFile: CLOUDS, network: 'kumo-lab-net', pollIntervalMs: 1000 },
    { env: {}, onHttp: () => void calls++ },
  );
  const key = `bench-kumo-${run}`;
  const t0 = performance.now();
  const made = await provider.createMachines(
    {
      spec: { resources: { cpus: 1, memoryMiB: 512 }, image: 'ubuntu-22.04' },
      count: N,
      idempotencyKey: key,
      dc: 'bench',
      pool: 'bench',
    },
    { timeoutMs: 1_800_000 },
  );
  await provider.deleteMachines(made.map((m) => m.providerId));
  await waitUntil(
    async () => (await provider.listMachines({ labels: { [TAG_KEY]: key } })).length === 0,
    { timeoutMs: 1_800_000, intervalMs: 1000, what: 'bench servers gone' },
  );
  return { seconds: (performance.now() - t0) / 1000, calls };
}

/** What a small script without kumo does: one call after another. */
async function sequential(run: string): Promise<{ seconds: number; calls: number }> {
  let calls = 0;
  const config = resolveOpenStackConfig({ cloud: 'kumo-lab', cloudsFile: CLOUDS }, { env: {} });
  const transport = new HttpTransport({ onEvent: (_e: HttpEvent) => void calls++ });
  const a = config.auth;
  const session = new KeystoneSession({
    transport,
    auth: {
      type: 'password',
      authUrl: a.authUrl,
      username: a.username!,
      password: a.password!,
      userDomainName: a.userDomainName ?? 'Default',
      projectName: a.projectName!,
      projectDomainName: a.projectDomainName ?? 'Default',
    },
  });
  const nova = session.client('compute');
  const neutron = session.client('network', { major: 2 });
  const glance = session.client('image', { major: 2 });
  const t0 = performance.now();
  const { images } = await glance.get<{ images: { id: string }[] }>('/images', {
    query: { name: 'kumo-ubuntu-22.04-lab' },
  });
  const { networks } = await neutron.get<{ networks: { id: string }[] }>('/networks', {
    query: { name: 'kumo-lab-net' },
  });
  const ids: string[] = [];
  for (let i = 0; i < N; i++) {
    const { server } = (
      await nova.request<{ server: { id: string } }>('POST', '/servers', {
        body: {
          server: {
            name: `bench-seq-${run}-${i}`,
            imageRef: images[0]!.id,
            flavorRef: 'kumo.small',
            networks: [{ uuid: networks[0]!.id }],
          },
        },
      })
    ).body;
    ids.push(server.id);
  }
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  for (const id of ids) {
    for (;;) {
      const { server } = await nova.get<{ server: { status: string } }>(`/servers/${id}`);
      if (server.status === 'ACTIVE' || server.status === 'ERROR') break;
      await sleep(1000);
    }
  }
  for (const id of ids) await nova.request('DELETE', `/servers/${id}`);
  for (const id of ids) {
    for (;;) {
      try {
        await nova.get(`/servers/${id}`);
      } catch (err) {
        if (err instanceof OpenStackApiError && err.status === 404) break;
        throw err;
      }
      await sleep(1000);
    }
  }
  return { seconds: (performance.now() - t0) / 1000, calls };
}

export const benches: Bench[] = [
  {
    name: 'openstack.lab_create_delete_50',
    async run(): Promise<Figure[]> {
      const down = await labUp();
      if (down !== undefined) {
        process.stdout.write(
          `  skipped: the OpenStack lab is not up (${down}); start it with scripts/openstack-lab/up.sh\n`,
        );
        return [];
      }
      const run = Date.now().toString(36);
      const kumo = await withKumo(run);
      const seq = await sequential(run);
      return [
        {
          name: 'openstack.create_delete_50_kumo_s',
          value: round(kumo.seconds, 1),
          unit: 's',
          note: 'lab on 2 shared cores',
        },
        { name: 'openstack.create_delete_50_kumo_calls', value: kumo.calls, unit: 'calls' },
        {
          name: 'openstack.create_delete_50_sequential_s',
          value: round(seq.seconds, 1),
          unit: 's',
        },
        { name: 'openstack.create_delete_50_sequential_calls', value: seq.calls, unit: 'calls' },
      ];
    },
  },
];
